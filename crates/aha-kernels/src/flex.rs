//! What the CPU backend's (Flex) kernels share: plain loops over a tensor's values, in and out.

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Shape, Tensor, TensorData};

/// Whether `tensor` is an f32 tensor of the CPU backend (with or without gradients).
pub(crate) fn is_flex_f32<const D: usize>(tensor: &Tensor<D>) -> bool {
    let primitive = tensor.clone().inner().try_into_primitive::<Flex>();
    primitive.is_ok_and(|primitive| primitive.dtype() == DType::F32)
}

/// The values of a contiguous f32 tensor (the kernels take only those, after `to_contiguous`).
pub(crate) fn f32s(tensor: &FlexTensor) -> &[f32] {
    tensor.as_slice().expect("a contiguous f32 tensor")
}

pub(crate) fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
