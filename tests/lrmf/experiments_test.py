"""Claim 4's gradient against finite differences, and the decay fit on a small setting."""

import jax
import numpy as np
import pytest

from lrmf import experiments, gmm


def test_gmm_gradient_matches_finite_differences():
    mus = np.array([1.5, 3.0, 6.0])
    g = gmm.gmm_gradient(mus, samples=2000, seed=0)
    with jax.enable_x64(True):
        import jax.numpy as jnp

        k1, k2 = jax.random.split(jax.random.PRNGKey(0))
        x = jnp.where(jax.random.bernoulli(k1, 0.5, (2000,)), 1.0, -1.0) + 0.5 * jax.random.normal(
            k2, (2000,), jnp.float64
        )
        sigma = np.sqrt(1.25)

        def ll(mu):
            p = 0.5 * jax.scipy.stats.norm.pdf(x, 0.0, sigma) + 0.5 * jax.scipy.stats.norm.pdf(x, mu, sigma)
            return float(jnp.mean(jnp.log(p)))

        eps = 1e-5
        fd = [(ll(m + eps) - ll(m - eps)) / (2 * eps) for m in mus]
    np.testing.assert_allclose(g, fd, rtol=1e-5)
    assert np.all(g < 0) and abs(g[2]) < abs(g[1]) < abs(g[0])


def test_decay_fit_recovers_a_known_line():
    mus = np.linspace(4, 20, 100)
    grads = -np.exp(-((0.6 * mus - 1.2) ** 2))
    fit = gmm.fit_decay(mus, grads)
    np.testing.assert_allclose([fit['a'], fit['b'], fit['r']], [0.6, -1.2, 1.0], atol=1e-9)


def test_settings_table_runs_every_aligner_on_every_setting(tmp_path, monkeypatch):
    """`settings`: the three fixed settings x four aligners x seeds, each job with its switches."""
    import json
    import os

    from common import grid

    launched = []

    def fake_run_jobs(jobs, root, **kw):
        launched.extend(jobs)
        out = {}
        for job in jobs:
            acc = 0.9 if 'realnvp' in job.name else 0.6
            out[job.name] = {
                'arm_accuracy_before': 0.5,
                'arm_accuracy_after': acc,
                'train_lrmf_loss': 0.1,
                'test_lrmf_loss': 0.2,
            }
        return out

    monkeypatch.setattr(grid, 'run_jobs', fake_run_jobs)
    monkeypatch.chdir(tmp_path)
    result = experiments.run_settings((0, 1), str(tmp_path / 'runs'))
    assert len(launched) == 3 * 4 * 2
    mixture = [j for j in launched if j.name.startswith('mixture_rot120-')]
    assert all(j.overrides['data.source'] == 'mixture' and j.overrides['data.rotation'] == -120 for j in mixture)
    assert result['mean_over_seeds']['unequal_arms/moons_realnvp']['label_accuracy_after'] == 0.9
    out = tmp_path / 'runs' / 'partial-results' / 'lrmf'
    text = (out / 'semantics_settings.md').read_text()
    assert '| LRMF | 0.900 / 0.900 | 0.900 | 0.500 | 0.200 / 0.200 | 0.200 |' in text
    assert json.loads((out / 'semantics_settings.json').read_text())['seeds'] == [0, 1]
    assert os.path.exists(out / 'semantics_mixture_rot120.png')


@pytest.mark.parametrize('control_loss', [0.3, 0.05])
def test_held_out_table_switches_every_run_to_held_out_fits(tmp_path, monkeypatch, control_loss):
    """Every run fits its private models with a held-out split; the control's tries (the shared
    model's rate and start, the budget) run only when the control misses ~0 on some seed."""
    from common import grid

    launched = []

    def fake_run_jobs(jobs, root, **kw):
        launched.extend(jobs)
        test = {'moons_copy-seed1': control_loss}
        return {
            j.name: {
                'train_lrmf_loss': 0.01,
                'test_lrmf_loss': test.get(j.name, 0.02),
                'arm_accuracy_before': 0.7,
                'arm_accuracy_after': 0.75,
            }
            for j in jobs
        }

    monkeypatch.setattr(grid, 'run_jobs', fake_run_jobs)
    monkeypatch.chdir(tmp_path)
    experiments.run_held_out((0, 1), str(tmp_path / 'runs'))
    missed = control_loss > experiments.CONTROL_MISS
    assert len(launched) == 2 * (4 + (len(experiments.CONTROL_TRIES) if missed else 0))
    assert all(j.overrides['data.validation_fraction'] == 0.2 for j in launched)
    text = (tmp_path / 'runs' / 'partial-results' / 'lrmf' / 'held_out.md').read_text()
    mean = (0.02 + control_loss) / 2
    assert f'| moons_copy (3000 fit steps) | 0.010 / 0.010 | 0.010 | 0.020 / {control_loss:.3f} | {mean:.3f} |' in text
    assert ('## The affine-copy control: tries' in text) == missed
    if missed:
        steps = next(j for j in launched if j.name == 'moons_copy-steps_4x-seed1')
        assert steps.overrides['train.steps'] == 6000 and steps.overrides['seed'] == 1
        assert (
            '| S starts as P_A | 0.010 / 0.010 | 0.010 | 0.020 / 0.020 | 0.020 | 0.700 -> 0.750 / 0.700 -> 0.750 |'
            in text
        )


@pytest.mark.parametrize(
    'argv, expected',
    [
        (['gmm', '--seeds=0'], '--seeds is not used by gmm'),
        (['settings', '--variants=moons_realnvp'], '--variants is not used by settings'),
        (['heldout', '--variants=moons_copy'], '--variants is not used by heldout'),
    ],
)
def test_a_flag_the_subcommand_does_not_use_is_refused(capsys, argv, expected):
    with pytest.raises(SystemExit) as exit_info:
        experiments.main(argv)
    assert exit_info.value.code == 2 and expected in capsys.readouterr().err
