"""The 'folder' source: your own trainA/ trainB/ [testA/ testB/] of PNG / JPEG of any size and
mode; the folders are only read; every bad root is one line naming the path. CycleGAN trains on
it (both defences), resumes exactly, and reports RH (8-bit) and SN; and on TFDS cycle_gan."""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds
from ml_collections import ConfigDict
from PIL import Image

from common import data
from common.cyclegan import method as cyclegan_method
from common.cyclegan.config import get_config
from common.errors import ConfigError


def _user_folders(root, *, test=False, n=6):
    """Photos of different sizes and modes: RGB, grey, RGBA, a JPEG."""
    rng = np.random.default_rng(0)
    for domain, shade in (('A', 40), ('B', 200)):
        for split in ('train', 'test') if test else ('train',):
            folder = root / f'{split}{domain}'
            os.makedirs(folder)
            for i in range(n):
                x = np.clip(rng.normal(shade, 20, (20 + 3 * i, 24, 3)), 0, 255).astype(np.uint8)
                img = Image.fromarray(x)
                if i == 1:
                    img = img.convert('L')
                if i == 2:
                    img = img.convert('RGBA')
                img.save(folder / (f'{i}.jpg' if i == 3 else f'{i}.png'))
    return root


def _snapshot(root):
    return {
        os.path.relpath(os.path.join(d, f), root): open(os.path.join(d, f), 'rb').read()
        for d, _, files in os.walk(root)
        for f in files
    }


def _config(root, **kw):
    return ConfigDict({'source': 'folder', 'root': str(root), 'batch_size': 2, 'image_size': 8, 'pool_size': 50, **kw})


def test_a_root_without_test_folders_is_split_by_the_seed(tmp_path):
    root = _user_folders(tmp_path / 'photos')
    train, test = (data.get_dataset(_config(root), s, seed=3) for s in ('train', 'test'))
    assert train.pool['a'].shape == (5, 8, 8, 3) and test.pool['a'].shape == (1, 8, 8, 3)  # 20% held out
    assert -1.0 <= train.pool['a'].min() and train.pool['b'].max() <= 1.0 and train.pool['a'].dtype == np.float32
    assert train.pool['a'].mean() < -0.4 < 0.4 < train.pool['b'].mean()  # dark A, light B
    for row in test.pool['a']:  # the held-out image is none of the training ones
        assert not any(np.allclose(row, x) for x in train.pool['a'])
    again = data.get_dataset(_config(root), 'train', seed=3)
    np.testing.assert_array_equal(again.batch(7)['a'], train.batch(7)['a'])  # a pure function of (seed, step)
    batch, _ = data.describe(_config(root), 'train')
    assert batch['a'].shape == (2, 8, 8, 3)
    grey = data.get_dataset(_config(root, channels=1, load='resize_crop', load_size=12), 'train', seed=0)
    assert grey.pool['b'].shape == (5, 8, 8, 1)


def test_test_folders_are_used_and_pool_size_caps_the_reads(tmp_path):
    root = _user_folders(tmp_path / 'photos', test=True, n=4)
    train = data.get_dataset(_config(root, pool_size=3), 'train', seed=0)
    test = data.get_dataset(_config(root), 'test', seed=0)
    assert len(train.pool['a']) == 3 and len(test.pool['b']) == 4


def test_bad_roots_are_one_line_naming_the_path(tmp_path):
    root = _user_folders(tmp_path / 'photos')
    os.makedirs(tmp_path / 'only_a' / 'trainA')
    for name in ('x.png', 'y.png'):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / 'only_a' / 'trainA' / name)
    os.makedirs(tmp_path / 'empty' / 'trainA')
    os.makedirs(tmp_path / 'empty' / 'trainB')
    cases = [
        (_config(''), r'config.data.root is empty; give the folder holding trainA/ and trainB/'),
        (_config(tmp_path / 'nowhere'), r'nowhere is not a folder; it must hold trainA/ and trainB/'),
        (_config(tmp_path / 'only_a'), r'only_a has no trainB/ folder'),
        (_config(tmp_path / 'empty'), r'empty/trainA holds no PNG or JPEG image'),
        (_config(root, load='resize_crop', load_size=4), r'config.data.load_size=4 is not valid'),
        (_config(root, channels=4), r'config.data.channels=4 is not valid'),
    ]
    for config, match in cases:
        with pytest.raises(ConfigError, match=match):
            data.get_dataset(config, 'train', seed=0)
    (root / 'trainB' / '5.png').write_bytes(b'not a png')
    with pytest.raises(ConfigError, match=r'trainB/5.png is not a readable image'):
        data.get_dataset(_config(root), 'train', seed=0)


def test_cyclegan_with_both_defences_on_your_folders_in_bfloat16(tmp_path):
    root = _user_folders(tmp_path / 'photos', n=10)  # 8 train, 2 test per domain
    before = _snapshot(root)
    config = get_config('tiny')
    config.data.source = 'folder'
    config.data.root = str(root)
    config.loss.noise_std, config.loss.guess_weight = 0.1, 2.0
    config.model.dtype = 'bfloat16'  # trains and stays finite (float32's path: tests/common/nets_test.py)
    from common import train

    config.train.steps = 2  # exact resume: the CycleGAN's own end-to-end test
    res = train.train_and_evaluate(cyclegan_method.make(config), config, str(tmp_path / 'runs'))
    for key in ('rh_8bit', 'sn_2', 'sn_8', 'reconstruction_l2', 'cycle_l1_a', 'cycle_l1_b'):
        assert np.isfinite(res[key]), key
    assert 'rh' not in res and 'no segmentations' in res['skipped']
    assert res['num_pairs'] == 2 and 0.0 <= res['paired_pixel_accuracy'] <= 1.0  # 8.png in testA and testB
    assert _snapshot(root) == before  # the user's folders are only read
    config.model.dtype = 'float16'
    with pytest.raises(ConfigError, match="config.model.dtype='float16' is not valid; allowed: 'float32', 'bfloat16'"):
        cyclegan_method.make(config)


def test_the_maps_recipe_trains_on_tfds_mock_data_and_decays_its_learning_rate(tmp_path):
    """The seed's Google Maps setting (TFDS cycle_gan/maps), at 32 px and narrow nets on TFDS mock
    data for 2 steps; the reference's schedule: constant, then linear to 0."""
    from common import train

    assert (get_config('maps_guess_noise').loss.noise_std, get_config('maps_guess_noise').loss.guess_weight) == (0.1, 2)
    config = get_config('maps')  # the defences' wiring is the tests above
    assert (config.data.batch_size, config.model.num_blocks, config.data.load_size) == (1, 9, 286)
    assert config.train.steps == 2 * config.optim.decay_from == 200 * 1096
    assert (config.loss.noise_std, config.loss.guess_weight, config.loss.identity) == (0.0, 0.0, 0.5)
    config.data.image_size, config.data.pool_size, config.data.batch_size = 32, 4, 2
    config.eval.num_images, config.train.steps, config.optim.decay_from = 2, 2, 1
    config.model.ngf = config.model.ndf = 8  # the recipe's nets are traced by tests/contract_test.py
    config.model.num_blocks, config.model.fast_convs = 2, False
    config.train.eval_every = config.train.checkpoint_every = 2
    assert config.data.source == 'tfds' and config.data.tfds_name == 'cycle_gan/maps'
    with tfds.testing.mock_data(num_examples=6):
        res = train.train_and_evaluate(cyclegan_method.make(config), config, str(tmp_path))
    assert np.isfinite(res['sn_2']) and np.isfinite(res['rh_8bit']) and res['num_test_images'] == 2
    assert 'carry no file name' in res['skipped']
    schedule = cyclegan_method.optimizer  # lr at steps 0, 1, 2 of a 2-step run decaying from step 1
    import optax

    config.optim.lr = 1.0
    state = schedule(config).init({'w': np.zeros(1)})
    lrs = []
    for _ in range(3):
        updates, state = schedule(config).update({'w': np.ones(1)}, state)
        lrs.append(-float(updates['w'][0]))
    assert lrs[0] == pytest.approx(1.0, rel=1e-3) and lrs[2] == pytest.approx(0.0, abs=1e-6)
    assert isinstance(schedule(config), optax.GradientTransformation)


def test_rift_on_your_folders_draws_its_grids_and_says_what_it_skipped(tmp_path):
    from rift import method as rift_method
    from rift.config import get_config as rift_config

    root = _user_folders(tmp_path / 'photos', n=10)
    before = _snapshot(root)
    config = rift_config('tiny')
    config.data.source, config.data.root = 'folder', str(root)
    from common import train

    config.train.steps = 2  # resume is the cyclegan test's above and rift's own
    res = train.train_and_evaluate(rift_method.make(config), config, str(tmp_path / 'runs' / 'full'))
    assert set(res['cycle_l1']) == {'a', 'b'} and np.isfinite(res['source_spread']['rift_a2b'])
    assert 'no factors' in res['skipped'] and 'rift' not in res
    assert (tmp_path / 'runs' / 'full' / 'translations.png').stat().st_size > 0
    assert _snapshot(root) == before
    config.loss.supervised = 1.0
    with pytest.raises(ConfigError, match='config.loss.supervised=1.0 needs the exact translations'):
        rift_method.make(config)


def test_file_names_that_pair_up_give_pair_ids():
    from common.data.folder import pair_ids

    a, b = pair_ids(['x/12_A.jpg', 'x/7_A.png', 'x/lone.png'], ['y/7_B.png', 'y/12_B.jpg', 'y/3_B.jpg'])
    assert a.tolist() == [0, 1, -1] and b.tolist() == [1, 0, -1]  # ids by sorted stem: '12' -> 0, '7' -> 1


def test_puppetgan_on_your_own_labelled_digits(tmp_path):
    """data.real='folder': root/train/<0-9>/ of PNGs (any size, white on black like MNIST); the
    seed holds out 20% as the test split; a tiny run trains the judge on their labels."""
    from common import testing, train
    from common.data import digits, puppet_digits
    from puppet import method as puppet_method
    from puppet.config import get_config as puppet_config

    mnist, labels = digits.mnist_split(28, 'train', 0)
    root = tmp_path / 'my_digits'
    for c in range(10):
        testing.write_pngs(str(root / 'train' / str(c)), 2.0 * mnist[labels == c][:3, ..., None] - 1.0, f'{c}_')
    before = _snapshot(root)
    config = puppet_config('tiny')
    config.data.real, config.data.root = 'folder', str(root)
    test_paths, test_labels = puppet_digits.real_folder(str(root), 'test', 0)
    train_paths, _ = puppet_digits.real_folder(str(root), 'train', 0)
    assert (len(train_paths), len(test_paths)) == (24, 6) and not set(train_paths) & set(test_paths)
    assert all(os.path.basename(p).startswith(f'{c}_') for p, c in zip(test_paths, test_labels, strict=True))
    batch, _ = data.describe(config.data, 'test')
    assert batch['a'].shape[1:] == (32, 32, 1)
    res = train.train_and_evaluate(puppet_method.make(config), config, str(tmp_path / 'run'))
    assert np.isfinite(res['acc']) and np.isfinite(res['r_attr'])
    assert _snapshot(root) == before
    (root / 'train' / 'seven').mkdir()
    with pytest.raises(ConfigError, match=r'train must hold only folders named 0-9, one per class'):
        puppet_digits.real_folder(str(root), 'train', 0)
    with pytest.raises(ConfigError, match=r'has no train/ folder'):
        puppet_digits.real_folder(str(tmp_path), 'train', 0)
