//! The candle op that multiplies f32 activations by a weight matrix held in
//! one of the CPU's packed formats ([`super::int8::Int8Matrix`],
//! [`super::int4::Int4Matrix`]): `x·Wᵀ`, `x` `[.., cols]` → `[.., rows]`.
//! Its backward pass multiplies by the dequantized weight, so gradients flow
//! through a frozen packed base.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Device, Layout, Shape, Tensor};

use super::Result;

/// A weight matrix in a packed format with its own `x·Wᵀ` kernel.
pub(crate) trait PackedMatrix: std::fmt::Debug + Send + Sync + 'static {
	/// The op's name in candle's graph and in error messages.
	const OP_NAME: &'static str;
	fn rows(&self) -> usize;
	fn cols(&self) -> usize;
	/// `x·Wᵀ` for `m` rows of `cols` activations.
	fn matmul_t(&self, x: &[f32], m: usize) -> Vec<f32>;
	/// The matrix in f32.
	fn dequantize(&self, device: &Device) -> Result<Tensor>;
}

#[derive(Clone, Debug)]
pub(crate) struct PackedMatMul<M>(pub Arc<M>);

impl<M: PackedMatrix> CustomOp1 for PackedMatMul<M> {
	fn name(&self) -> &'static str {
		M::OP_NAME
	}

	fn cpu_fwd(
		&self,
		storage: &CpuStorage,
		layout: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		let name = M::OP_NAME;
		let CpuStorage::F32(data) = storage else {
			candle_core::bail!("{name} needs f32 activations");
		};
		let Some((start, end)) = layout.contiguous_offsets() else {
			candle_core::bail!("{name} needs contiguous activations");
		};
		let dims = layout.shape().dims();
		let Some((&k, batch)) = dims.split_last() else {
			candle_core::bail!("{name} needs at least one dimension");
		};
		if k != self.0.cols() {
			candle_core::bail!(
				"{name}: input has {k} columns, weight has {}",
				self.0.cols()
			);
		}
		let m: usize = batch.iter().product();
		let out = self.0.matmul_t(&data[start..end], m);
		let mut out_dims = batch.to_vec();
		out_dims.push(self.0.rows());
		Ok((CpuStorage::F32(out), Shape::from(out_dims)))
	}

	fn bwd(
		&self,
		_arg: &Tensor,
		_res: &Tensor,
		grad_res: &Tensor,
	) -> candle_core::Result<Option<Tensor>> {
		let weight = self
			.0
			.dequantize(grad_res.device())
			.map_err(candle_core::Error::wrap)?;
		Ok(Some(grad_res.broadcast_matmul(&weight)?))
	}
}
