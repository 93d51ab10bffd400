"""The seed's opening example: GDA circles on x y; on the shift game the dual min-min settles."""

import numpy as np

from dualadv import minmax_demo


def test_simultaneous_gda_spirals_out_at_the_exact_rate():
    traj = minmax_demo.bilinear(lr=0.1, steps=60)
    np.testing.assert_allclose(np.hypot(*traj['simultaneous'][-1]), np.sqrt(2) * 1.01**30, rtol=1e-9)
    assert np.hypot(*traj['alternating'][-1]) < 1.5  # bounded: it circles


def test_dual_settles_where_primal_gda_at_the_same_step_keeps_swinging():
    game = minmax_demo.shift_game()
    target = game['target']
    assert np.all(np.abs(game['dual_t'][20:] - target) < 0.05)
    assert np.ptp(game['primal_t'][-100:]) > 1.0 and abs(game['primal_t'][-1] - target) > 1.0
