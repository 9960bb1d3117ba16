"""gps's losses against a peer library's: lightly (PyPI, installed without its dependencies by
scripts/setup.sh), on random inputs. Equal where the conventions agree, off by the documented factor
where they do not (docs/reference-behaviour.md, section 2, "Conventions")."""
import pytest
import torch

import gps_ssl

try:
    import lightly.loss as lightly_loss
except ImportError as e:  # not skipped: the peer comparison is part of the suite
    raise ImportError("lightly is not in the venv: scripts/setup.sh installs it (without its dependencies)") from e

N, D = 64, 32


@pytest.fixture
def z():
    g = torch.Generator().manual_seed(0)
    return torch.randn(N, D, generator=g), torch.randn(N, D, generator=g) * 0.8 + 0.1


def close(a, b, rtol=1e-5):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64),
                          rtol=rtol, atol=1e-6)


def test_nt_xent_equals_lightly(z):
    for t in (0.1, 0.2, 0.5):
        assert close(gps_ssl.nt_xent(*z, temperature=t), lightly_loss.NTXentLoss(temperature=t)(*z))


def test_byol_is_two_plus_twice_lightlys_negative_cosine(z):
    # gps: mean(2 - 2 cos(p, z)) as BYOL's paper and solo-learn; lightly: -mean(cos).
    p, t = z
    assert close(gps_ssl.byol_loss(p, t), 2 + 2 * lightly_loss.NegativeCosineSimilarity()(p, t))


def test_barlow_twins_is_a_tenth_of_lightlys(z):
    # Same batch norm (biased variance, eps 1e-5) and lambda; solo-learn's scale_loss 0.1 on top.
    lam = 0.0051
    gps = gps_ssl.barlow_twins_loss(*z, lambda_=lam, scale=0.1).loss
    assert close(gps, 0.1 * lightly_loss.BarlowTwinsLoss(lambda_param=lam)(*z))
    assert close(gps_ssl.barlow_twins_loss(*z, lambda_=lam, scale=1.0).loss,
                 lightly_loss.BarlowTwinsLoss(lambda_param=lam)(*z))


def test_vicreg_mean_equals_lightly_and_sum_adds_one_variance_term(z):
    peer = lightly_loss.VICRegLoss(lambda_param=25.0, mu_param=25.0, nu_param=1.0, eps=1e-4)(*z)
    mean = gps_ssl.vicreg_loss(*z, variance="mean")
    assert close(mean.loss, peer)
    # solo-learn's sum (gps's default, the GPS-SSL reference): the variance term twice lightly's.
    s = gps_ssl.vicreg_loss(*z)
    assert close(s.variance, 2 * mean.variance)
    assert close(s.loss, peer + 25.0 * mean.variance)
    assert not close(s.loss, peer, rtol=1e-3)
    with pytest.raises(ValueError, match="variance"):
        gps_ssl.vicreg_loss(*z, variance="avg")
