#include "gps/optim/optim_config.h"

#include "gps/core/check.h"

namespace gps {

void validate(const OptimConfig& optim) {
  GPS_CHECK(optim.warmup_epochs <= optim.epochs, "optim.warmup_epochs (", optim.warmup_epochs,
            ") must not exceed optim.epochs (", optim.epochs, ")");
  GPS_CHECK(optim.min_lr <= optim.lr, "optim.min_lr (", optim.min_lr, ") must not exceed optim.lr (", optim.lr, ")");
}

}  // namespace gps
