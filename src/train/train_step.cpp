#include "gps/train/train_step.h"

#include "gps/distributed/process_group.h"

namespace gps {

StepStats train_step(TrainState& s, const StepBatch& batch, const StepOptions& opt) {
  s.set_schedule_lr(opt.lr);
  if (opt.weight_decay >= 0) s.set_schedule_weight_decay(opt.weight_decay);
  StepOutput out;
  {
    AutocastScope autocast(s.device, opt.precision);  // the network in bf16; the losses leave autocast themselves
    out = s.method->training_step(batch.views);
  }
  StepStats st;
  st.loss = out.loss.detach();
  st.logs = std::move(out.logs);
  torch::Tensor loss = out.loss;
  if (s.has_probe()) {  // the online probe: float32, on features the SSL loss does not see through
    auto logits = s.classifier(to_float32(out.features1.detach()));
    auto probe_loss = torch::nn::functional::cross_entropy(logits, batch.labels);
    loss = loss + probe_loss;
    st.probe_loss = probe_loss.detach();
    st.probe_correct = logits.argmax(1).eq(batch.labels).sum();
  }
  st.finite = torch::isfinite(loss.detach());
  s.optimizer->zero_grad();
  loss.backward();
  if (opt.group) opt.group->average_gradients(s.trainable());  // before the optimiser (LARS trust ratios) reads them
  s.optimizer->step();
  s.method->after_step(opt.progress_after);
  ++s.loop.step;
  return st;
}

}  // namespace gps
