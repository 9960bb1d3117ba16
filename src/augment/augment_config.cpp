#include "gps/augment/augment_config.h"

#include "gps/core/check.h"

namespace gps {

void validate(const AugmentConfig& augment) {
  const std::string& ap = augment.preset;
  const bool rrc_preset = ap == "weak-rrc" || ap == "strong" || ap == "symmetric" || ap == "symmetric-weak" ||
                          ap == "asymmetric" || ap == "vicreg";
  if (ap == "custom") {
    GPS_CHECK(!augment.view1.empty(), "augment.preset=custom needs augment.view1, e.g. \"crop(0.2) flip(0.5)\"");
  } else {
    GPS_CHECK(augment.view1.empty() && augment.view2.empty(),
              "augment.view1/view2 only apply to augment.preset=custom, not '", ap, "'");
  }
  if (!rrc_preset)
    GPS_CHECK(augment.min_scale == 0 && augment.max_scale == 0, "augment.min_scale/max_scale only apply to presets "
              "with a random resized crop (weak-rrc, strong, symmetric, symmetric-weak, asymmetric, vicreg), not '", augment.preset, "'");
  const double lo = augment.min_scale > 0 ? augment.min_scale : (augment.preset == "vicreg" ? 0.2 : 0.08);
  const double hi = augment.max_scale > 0 ? augment.max_scale : 1.0;
  GPS_CHECK(!rrc_preset || lo <= hi, "augment.min_scale (", lo, ") must not exceed augment.max_scale (", hi, ")");
  GPS_CHECK(augment.local_crops >= 0, "augment.local_crops must be >= 0, got ", augment.local_crops);
  GPS_CHECK(augment.local_min_scale > 0 && augment.local_min_scale <= augment.local_scale && augment.local_scale <= 1,
            "augment.local_min_scale (", augment.local_min_scale, ") and augment.local_scale (", augment.local_scale,
            ") must satisfy 0 < local_min_scale <= local_scale <= 1");
  GPS_CHECK(augment.local_crops == 0 || ap != "none", "augment.local_crops needs a preset that augments, not 'none'");
}

}  // namespace gps
