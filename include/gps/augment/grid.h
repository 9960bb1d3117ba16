// A picture of an augmentation: rows of images, each followed by its views.
#pragma once

#include "gps/augment/augment.h"
#include "gps/data/dataset.h"

#include <cstdint>

namespace gps {

// n_images evenly spaced images of `d` (rows); per row the original then
// n_views augmented views (view v uses stream mix64(seed + v), key = image
// index, pair view v % 2), de-normalised with d.mean/d.std. Cells are
// S x S with S = max(input, output size), 2 px white gutters; gray data is
// replicated to RGB. Returns [3, H', W'] uint8. Throws gps::Error for an
// empty dataset or counts < 1.
torch::Tensor augment_grid(const Dataset& d, const Augmentation& aug, int n_images, int n_views, uint64_t seed);

}  // namespace gps
