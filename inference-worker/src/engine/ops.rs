//! The three operations where candle's fast kernels have no backward pass:
//! softmax, RMS norm and rotary embeddings. Each comes in two forms selected
//! by [`Execution`]: candle's fused kernel for serving, and a composition of
//! basic differentiable ops for training LoRA with candle's autograd.

use candle_core::{DType, Device, Tensor, D};

use super::Result;

/// How the model runs its forward pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Execution {
	/// Fused kernels and in-place LoRA updates: fastest, no gradients.
	#[default]
	Inference,
	/// Basic ops only, so that gradients reach every LoRA parameter.
	Differentiable,
}

/// `softmax(x)` over the last dimension.
pub fn softmax_last_dim(x: &Tensor, mode: Execution) -> Result<Tensor> {
	match mode {
		Execution::Inference => Ok(candle_nn::ops::softmax_last_dim(x)?),
		Execution::Differentiable => {
			// Shifting by the (constant) row maximum keeps exp finite and does
			// not change the result, so it needs no gradient.
			let shift = x.detach().max_keepdim(D::Minus1)?;
			let e = x.broadcast_sub(&shift)?.exp()?;
			Ok(e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?)
		},
	}
}

/// RMSNorm: `x / sqrt(mean(x²) + eps) * weight` over the last dimension.
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64, mode: Execution) -> Result<Tensor> {
	match mode {
		Execution::Inference => Ok(candle_nn::ops::rms_norm(x, weight, eps as f32)?),
		Execution::Differentiable => {
			let mean_square = x.sqr()?.mean_keepdim(D::Minus1)?;
			let inv_rms = (mean_square + eps)?.sqrt()?.recip()?;
			Ok(x.broadcast_mul(&inv_rms)?.broadcast_mul(weight)?)
		},
	}
}

/// Rotary position embedding in the Llama (rotate-half) convention.
///
/// `x` is `[batch, tokens, heads, head_dim]`; `cos` and `sin` are
/// `[tokens, head_dim / 2]`, one row per token's position.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, mode: Execution) -> Result<Tensor> {
	match mode {
		Execution::Inference => Ok(candle_nn::rotary_emb::rope_thd(&x.contiguous()?, cos, sin)?),
		Execution::Differentiable => {
			let (_, tokens, _, head_dim) = x.dims4()?;
			let half = head_dim / 2;
			let cos = cos.reshape((1, tokens, 1, half))?;
			let sin = sin.reshape((1, tokens, 1, half))?;
			let x1 = x.narrow(D::Minus1, 0, half)?;
			let x2 = x.narrow(D::Minus1, half, half)?;
			let rotated_1 = (x1.broadcast_mul(&cos)? - x2.broadcast_mul(&sin)?)?;
			let rotated_2 = (x1.broadcast_mul(&sin)? + x2.broadcast_mul(&cos)?)?;
			Ok(Tensor::cat(&[rotated_1, rotated_2], D::Minus1)?)
		},
	}
}

/// The cos/sin tables of rotary embeddings for every position up to
/// `max_positions`, each `[max_positions, head_dim / 2]`.
#[derive(Clone, Debug)]
pub struct RotaryTables {
	pub cos: Tensor,
	pub sin: Tensor,
}

impl RotaryTables {
	pub fn new(head_dim: usize, theta: f64, max_positions: usize, device: &Device) -> Result<Self> {
		let half = head_dim / 2;
		let inv_freq: Vec<f32> = (0..half)
			.map(|i| (1.0 / theta.powf(2.0 * i as f64 / head_dim as f64)) as f32)
			.collect();
		let inv_freq = Tensor::from_vec(inv_freq, (1, half), device)?;
		let positions = Tensor::arange(0u32, max_positions as u32, device)?
			.to_dtype(DType::F32)?
			.reshape((max_positions, 1))?;
		let angles = positions.broadcast_mul(&inv_freq)?;
		Ok(Self {
			cos: angles.cos()?,
			sin: angles.sin()?,
		})
	}

	/// The rows of the tables for the given positions.
	pub fn at(&self, positions: &Tensor) -> Result<(Tensor, Tensor)> {
		Ok((
			self.cos.index_select(positions, 0)?,
			self.sin.index_select(positions, 0)?,
		))
	}

	pub fn max_positions(&self) -> usize {
		self.cos.dims()[0]
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::engine::max_diff;

	fn sample(shape: &[usize], seed: u64) -> Tensor {
		let n: usize = shape.iter().product();
		let values: Vec<f32> = (0..n)
			.map(|i| (((i as u64 * 2654435761 + seed * 97) % 1000) as f32 / 500.0) - 1.0)
			.collect();
		Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
	}

	#[test]
	fn differentiable_variants_match_fused_kernels() {
		let x = sample(&[1, 5, 3, 8], 1);
		let tables = RotaryTables::new(8, 10_000.0, 16, &Device::Cpu).unwrap();
		let positions = Tensor::new(&[3u32, 4, 5, 6, 7], &Device::Cpu).unwrap();
		let (cos, sin) = tables.at(&positions).unwrap();
		let fused = rope(&x, &cos, &sin, Execution::Inference).unwrap();
		let plain = rope(&x, &cos, &sin, Execution::Differentiable).unwrap();
		assert!(max_diff(&fused, &plain) < 1e-5);

		let w = sample(&[8], 2);
		let fused = rms_norm(&x, &w, 1e-5, Execution::Inference).unwrap();
		let plain = rms_norm(&x, &w, 1e-5, Execution::Differentiable).unwrap();
		assert!(max_diff(&fused, &plain) < 1e-5);

		let fused = softmax_last_dim(&x, Execution::Inference).unwrap();
		let plain = softmax_last_dim(&x, Execution::Differentiable).unwrap();
		assert!(max_diff(&fused, &plain) < 1e-6);
	}
}
