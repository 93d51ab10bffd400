"""RIFT (Usman, Bashkirova, Saenko, WACV 2023) and the many-to-many evaluation protocol
(Bashkirova, Usman, Saenko, WACV 2022), on the 3D-shapes world. In progress: the role
assignments (`rift.roles`) and the metrics' counting logic (`rift.metrics`)."""
