//! Gradient attribution: per-example LoRA gradients, randomly projected into an index, scored against the output's gradient.
