"""ResNet-18 as gps builds it (include/gps/models/resnet.h), in plain PyTorch:
for Python loops that should train the same network as `gps train`."""
import torch.nn as nn
import torch.nn.functional as F


class _Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 backbone: [B, C, H, W] float -> [B, 8 * width] features.

    small_stem: 3x3 stride-1 conv (padding stem_padding) and no max-pool, for
    28/32 px images; else the 7x7 stride-2 conv + max-pool of torchvision.
    Weights initialised like gps: Kaiming-normal (fan-out) convs, BN 1/0.
    """

    def __init__(self, in_channels=3, width=64, small_stem=True, stem_padding=2):
        super().__init__()
        if small_stem:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, stem_padding, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU())
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                                      nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, c = [], width
        for stage, out in enumerate([width, 2 * width, 4 * width, 8 * width]):
            blocks += [_Block(c, out, 1 if stage == 0 else 2), _Block(out, out, 1)]
            c = out
        self.blocks = nn.Sequential(*blocks)
        self.dim = c
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1).flatten(1)


def projector(in_dim, hidden_dim, out_dim):
    """SimCLR's projector as gps builds it (src/methods/simclr.cpp): Linear - ReLU - Linear."""
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, out_dim))
