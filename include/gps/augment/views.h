// The views of a training step: which images each view is made of, and the
// augmented images. The augmentation declares the list (Augmentation::views:
// the anchors' view and the positives' view today, with room for more,
// e.g. small crops); the trainer makes them and every method receives them.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace gps {

// The images a view is made of: the step's anchors, or their positives (an
// anchor's GPS neighbour; in plain SSL the anchor itself).
enum class ViewOf { anchor, positive };
const char* view_of_name(ViewOf of);  // "anchor" | "positive"

struct View {
  torch::Tensor images;  // [B, C, S, S] float32; row b is made from pair b's anchor or positive
  ViewOf of = ViewOf::anchor;
  int64_t size() const { return images.defined() ? images.size(-1) : 0; }  // S
};
using Views = std::vector<View>;

}  // namespace gps
