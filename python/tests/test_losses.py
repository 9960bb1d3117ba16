"""The losses: values and gradients against PyTorch reference formulas, autograd through C++."""
import pytest
import torch
import torch.nn.functional as F

import gps_ssl

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def ref_nt_xent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    logits = z @ z.t() / t
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, target)


def ref_byol(p, z):
    return (2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1)).mean()


def ref_nnclr(nn, p, t):
    logits = F.normalize(nn, dim=1) @ F.normalize(p, dim=1).t() / t
    return F.cross_entropy(logits, torch.arange(nn.shape[0], device=nn.device))


def ref_barlow(z1, z2, lam, scale):
    n = z1.shape[0]
    bn = lambda z: (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)
    c = bn(z1).t() @ bn(z2) / n
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = (c - torch.diag(torch.diagonal(c))).pow(2).sum()
    return scale * (on + lam * off)


def ref_vicreg(z1, z2, sw=25.0, vw=25.0, cw=1.0, eps=1e-4):
    n, d = z1.shape
    inv = F.mse_loss(z1, z2)
    var = sum(F.relu(1 - torch.sqrt(z.var(0) + eps)).mean() for z in (z1, z2))
    cov = 0
    for z in (z1, z2):
        zc = z - z.mean(0)
        c = zc.t() @ zc / (n - 1)
        cov = cov + (c - torch.diag(torch.diagonal(c))).pow(2).sum() / d
    return sw * inv + vw * var + cw * cov


def ref_mocov3(q, k, t):  # MoCo v3, Algorithm 1: ctr(q, k) with the keys constant
    logits = F.normalize(q, dim=1) @ F.normalize(k.detach(), dim=1).t() / t
    return F.cross_entropy(logits, torch.arange(q.shape[0], device=q.device)) * 2 * t


def ref_simsiam(p, z):  # SimSiam, Algorithm 1: D(p, z) = -cos(p, stopgrad(z))
    return -(F.normalize(p, dim=1) * F.normalize(z.detach(), dim=1)).sum(dim=1).mean()


CASES = {
    "nt_xent": (lambda a, b: gps_ssl.nt_xent(a, b, 0.2), lambda a, b: ref_nt_xent(a, b, 0.2)),
    "byol": (gps_ssl.byol_loss, ref_byol),
    "nnclr": (lambda a, b: gps_ssl.nnclr_loss(a, b, 0.3), lambda a, b: ref_nnclr(a, b, 0.3)),
    "barlow_twins": (lambda a, b: gps_ssl.barlow_twins_loss(a, b).loss, lambda a, b: ref_barlow(a, b, 0.0051, 0.1)),
    "vicreg": (lambda a, b: gps_ssl.vicreg_loss(a, b).loss, ref_vicreg),
    "mocov3": (lambda a, b: gps_ssl.mocov3_loss(a, b, 0.2), lambda a, b: ref_mocov3(a, b, 0.2)),
    "simsiam": (gps_ssl.simsiam_loss, ref_simsiam),
}
DETACHED = {"byol", "mocov3", "simsiam"}  # the second input is a target: no gradient


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradients_match_the_reference(name, device):
    mine, ref = CASES[name]
    g = torch.Generator().manual_seed(11)
    a0, b0 = torch.randn(12, 6, generator=g, dtype=torch.float64), torch.randn(12, 6, generator=g, dtype=torch.float64)
    a, b = a0.clone().to(device).requires_grad_(), b0.clone().to(device).requires_grad_()
    ra, rb = a0.clone().to(device).requires_grad_(), b0.clone().to(device).requires_grad_()
    loss, expect = mine(a, b), ref(ra, rb)
    assert loss.device.type == device and loss.dim() == 0
    assert torch.allclose(loss, expect, rtol=1e-9, atol=1e-9), (loss.item(), expect.item())
    loss.backward()
    expect.backward()
    assert torch.allclose(a.grad, ra.grad, atol=1e-9)
    if rb.grad is None:  # BYOL, MoCo v3, SimSiam: the target is detached
        assert b.grad is None
    else:
        assert torch.allclose(b.grad, rb.grad, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_through_the_cpp_loss(name):
    mine, _ = CASES[name]
    g = torch.Generator().manual_seed(4)
    a = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=name not in DETACHED)
    assert torch.autograd.gradcheck(mine, (a, b))


def test_indexed_nt_xent_equals_two_view_form():
    z1, z2 = torch.randn(5, 3), torch.randn(5, 3)
    idx = torch.cat([torch.arange(5), torch.arange(5)])
    assert torch.allclose(gps_ssl.nt_xent_indexed(torch.cat([z1, z2]), idx, 0.5), gps_ssl.nt_xent(z1, z2, 0.5))


def test_parts_and_errors():
    z1, z2 = torch.randn(8, 4), torch.randn(8, 4)
    v = gps_ssl.vicreg_loss(z1, z2)
    assert torch.allclose(v.loss, 25 * v.invariance + 25 * v.variance + v.covariance)
    bt = gps_ssl.barlow_twins_loss(z1, z2, lambda_=0.01, scale=1.0)
    assert torch.allclose(bt.loss, bt.on_diag + 0.01 * bt.off_diag)
    with pytest.raises((gps_ssl.Error, RuntimeError)):
        gps_ssl.nt_xent(torch.randn(4, 3), torch.randn(5, 3))


def test_dino_loss_matches_the_papers_pseudo_code():
    """DINO, Algorithm 1 with multi-crop: 2 global teacher views, 4 student views (2 global + 2 local)."""
    g = torch.Generator().manual_seed(5)
    student = [torch.randn(6, 9, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(4)]
    teacher = [torch.randn(6, 9, generator=g, dtype=torch.float64) for _ in range(2)]
    center = 0.1 * torch.randn(1, 9, generator=g, dtype=torch.float64)
    ref_student = [s.detach().clone().requires_grad_() for s in student]
    terms = [-(F.softmax((t - center) / 0.04, dim=-1) * F.log_softmax(s / 0.1, dim=-1)).sum(-1).mean()
             for i, t in enumerate(teacher) for j, s in enumerate(ref_student) if i != j]
    expect = sum(terms) / len(terms)
    loss = gps_ssl.dino_loss(student, teacher, center, student_temp=0.1, teacher_temp=0.04)
    assert torch.allclose(loss, expect, rtol=1e-9, atol=1e-9)
    loss.backward()
    expect.backward()
    for s, r in zip(student, ref_student):
        assert torch.allclose(s.grad, r.grad, atol=1e-9)


def test_swav_matches_the_papers_pseudo_code():
    """SwAV, Algorithm 1: Sinkhorn-Knopp codes of the 2 global views; swapped prediction over 4 views."""
    g = torch.Generator().manual_seed(6)
    preds = [(2 * torch.rand(6, 9, generator=g, dtype=torch.float64) - 1).requires_grad_() for _ in range(4)]
    ref = [p.detach().clone().requires_grad_() for p in preds]

    def sinkhorn(scores, eps=0.05, iters=3):
        Q = torch.exp(scores / eps).t()
        Q /= Q.sum()
        K, B = Q.shape
        for _ in range(iters):
            Q /= Q.sum(dim=1, keepdim=True)
            Q /= K
            Q /= Q.sum(dim=0, keepdim=True)
            Q /= B
        return (Q * B).t()

    codes = [sinkhorn(p.detach()) for p in ref[:2]]
    for p, q in zip(preds[:2], codes):
        assert torch.allclose(gps_ssl.sinkhorn_knopp(p.detach(), 0.05, 3), q, rtol=1e-9, atol=1e-12)
    terms = [-(q * F.log_softmax(p / 0.1, dim=-1)).sum(-1).mean()
             for i, q in enumerate(codes) for j, p in enumerate(ref) if i != j]
    expect = sum(terms) / len(terms)
    loss = gps_ssl.swav_loss(preds, codes, temperature=0.1)
    assert torch.allclose(loss, expect, rtol=1e-9, atol=1e-9)
    loss.backward()
    expect.backward()
    for p, r in zip(preds, ref):
        assert torch.allclose(p.grad, r.grad, atol=1e-9)
