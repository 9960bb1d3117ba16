"""The SSL losses of gps, on torch tensors, as part of autograd graphs.

These are gps's C++ functions (include/gps/methods/losses.h), not Python
rewrites; they run on the tensors' device and dtype.
"""
from collections import namedtuple

from . import _core

BarlowTwinsLoss = namedtuple("BarlowTwinsLoss", "loss on_diag off_diag")
VICRegLoss = namedtuple("VICRegLoss", "loss invariance variance covariance")


def nt_xent(z1, z2, temperature=0.2):
    """SimCLR's NT-Xent: z1, z2 [N, D] (L2-normalised inside); row i of each is a positive pair,
    the other 2N - 2 views negatives. Returns the mean loss, a scalar tensor."""
    return _core.nt_xent(z1, z2, float(temperature))


def nt_xent_indexed(z, indexes, temperature=0.2):
    """NT-Xent over z [M, D] where rows with equal indexes ([M] int64) are positives of each other."""
    return _core.nt_xent_indexed(z, indexes, float(temperature))


def byol_loss(p, z):
    """BYOL: mean(2 - 2 cos(p_i, z_i)); p, z [N, D]; z is detached (gradients reach p only)."""
    return _core.byol_loss(p, z)


def nnclr_loss(nn, p, temperature=0.2):
    """NNCLR: cross-entropy of normalise(nn) normalise(p)^T / T against the diagonal; nn, p [N, D]."""
    return _core.nnclr_loss(nn, p, float(temperature))


def mocov3_loss(q, k, temperature=0.2):
    """MoCo v3: 2T * cross-entropy of normalise(q) normalise(k)^T / T against the diagonal; q, k [N, D];
    k is detached (the momentum encoder's keys)."""
    return _core.mocov3_loss(q, k, float(temperature))


def simsiam_loss(p, z):
    """SimSiam: -mean(cos(p_i, z_i)); p, z [N, D]; z is detached (gradients reach p only)."""
    return _core.simsiam_loss(p, z)


def dino_loss(student, teacher, center, student_temp=0.1, teacher_temp=0.07):
    """DINO: student = logits [B, P] of every view (the 2 global first), teacher = logits of the global views;
    mean over (g, v != g) of CE(softmax((teacher[g] - center) / teacher_temp), softmax(student[v] / student_temp)).
    The teacher gets no gradient."""
    return _core.dino_loss(list(student), list(teacher), center, float(student_temp), float(teacher_temp))


def sinkhorn_knopp(scores, epsilon=0.05, iters=3):
    """SwAV's Sinkhorn-Knopp: codes [N, K] for scores [N, K] (cosines to the prototypes); each row sums to 1.
    No gradient. Pass every rank's rows (the gathered batch) for the distributed version."""
    return _core.sinkhorn_knopp(scores, float(epsilon), int(iters))


def swav_loss(preds, codes, temperature=0.1):
    """SwAV's swapped prediction: preds = scores [B, K] of every view (the 2 global first), codes = the
    Sinkhorn-Knopp codes of the global views; mean over (g, v != g) of CE(codes[g], softmax(preds[v] / T))."""
    return _core.swav_loss(list(preds), list(codes), float(temperature))


def barlow_twins_loss(z1, z2, lambda_=0.0051, scale=0.1):
    """Barlow Twins on z1, z2 [N, D], N >= 2: BarlowTwinsLoss(loss, on_diag, off_diag)."""
    return BarlowTwinsLoss(*_core.barlow_twins_loss(z1, z2, float(lambda_), float(scale)))


def vicreg_loss(z1, z2, sim_weight=25.0, var_weight=25.0, cov_weight=1.0, eps=1e-4, variance="sum"):
    """VICReg on z1, z2 [N, D], N >= 2: VICRegLoss(loss, invariance, variance, covariance).

    variance: "sum" of the two branches' hinge terms (solo-learn, gps's default) or their
    "mean" (the VICReg authors' code and lightly's VICRegLoss).
    """
    if variance not in ("sum", "mean"):
        raise ValueError(f"variance must be 'sum' or 'mean', got {variance!r}")
    return VICRegLoss(*_core.vicreg_loss(z1, z2, float(sim_weight), float(var_weight), float(cov_weight), float(eps),
                                         variance == "mean"))
