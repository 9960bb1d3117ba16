#include "gps/prior/pixel_prior.h"

#include "gps/augment/augment.h"

namespace gps {

torch::Tensor PixelPrior::embed(const Dataset& d) const {
  return to_normalized_float(d.images, d.mean, d.std).reshape({d.size(), -1}).contiguous();
}

}  // namespace gps
