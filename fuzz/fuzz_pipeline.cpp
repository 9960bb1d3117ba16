// libFuzzer harness: augmentation pipeline specs (augment.view1 / view2,
// e.g. "crop(0.2) jitter(0.8,0.4,0.4,0.2,0.1) flip(0.5)"). A spec that parses
// is also run on a small image, so that every accepted value is one the ops
// can apply.
#include "fuzz_common.h"

#include "gps/augment/pipeline.h"
#include "gps/core/rng.h"

#include <torch/torch.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  gps::fuzz::expect_clean([&] {
    gps::PipelineSpec spec = gps::parse_pipeline_spec(text, "augment.view1");
    spec.describe();
    if (spec.size > 64) return;  // parsed; the image test would only cost time
    static const torch::Tensor image = torch::arange(3 * 12 * 12, torch::kInt64).remainder(256).to(torch::kUInt8)
                                           .reshape({3, 12, 12});
    gps::Rng rng(size, 1);
    for (int i = 0; i < 4; ++i) {
      const gps::SampleParams p = gps::sample_params(spec, 12, 12, rng);
      const torch::Tensor out = gps::augment_image(image, spec, p);
      if (out.dim() != 3 || out.size(0) != 3) std::abort();
    }
  });
  return 0;
}
