//! The WGSL sources in `shaders/`, their template variables, and the launch plumbing shared by
//! the kernels: pulling a Burn tensor's wgpu buffer out and wrapping outputs back into tensors.

use burn::backend::TensorMetadata;
use burn::backend::wgpu::{CubeBackend, CubeTensor, KernelSource, SourceKernel, SourceTemplate};
use burn::tensor::{DType, Int, Shape, Tensor};
use cubecl::prelude::{CubeCount, CubeDim, KernelId};
use cubecl::server::{Handle, KernelArguments};

/// `shaders/include/`: pieces of WGSL pasted where a shader names them (before its template
/// variables are filled), so that the kernels needing one share a single copy: erf and GELU (every
/// GELU computes the same function), the entry point of the one-invocation-per-item kernels, the
/// attention kernels' sizes and layout, and a workgroup's sum.
const INCLUDES: &[(&str, &str)] = &[
    ("gelu_functions", include_str!("../../../shaders/include/gelu.wgsl")),
    ("one_invocation_per_item", include_str!("../../../shaders/include/items.wgsl")),
    ("attention_layout", include_str!("../../../shaders/include/attention.wgsl")),
    ("workgroup_sum", include_str!("../../../shaders/include/workgroup_sum.wgsl")),
];

/// One shader file and the template variables it needs.
#[derive(Debug, Clone, Copy)]
pub struct Shader {
    /// File name under `shaders/`.
    pub file: &'static str,
    /// The WGSL with `{{ name }}` placeholders.
    pub source: &'static str,
    /// Every placeholder, with a value valid for validation tests.
    pub example_values: &'static [(&'static str, &'static str)],
}

/// `shader!("foo.wgsl", example values)`: the file `shaders/foo.wgsl`, compiled into the crate.
macro_rules! shader {
    ($file:literal, $example_values:expr) => {
        Shader {
            file: $file,
            source: include_str!(concat!("../../../shaders/", $file)),
            example_values: $example_values,
        }
    };
}

pub const ROUTER_TOPK: Shader =
    shader!("router_topk.wgsl", &[("workgroup_size", "64"), ("experts", "4"), ("top_k", "2")]);
pub const SAMPLE: Shader = shader!("sample.wgsl", &[("workgroup_size", "64"), ("vocab", "40")]);
pub const RMS_NORM: Shader = shader!("rms_norm.wgsl", &[("eps", "1e-5"), ("workgroup_size", "64")]);
pub const RMS_NORM_BACKWARD: Shader = shader!("rms_norm_backward.wgsl", &[("workgroup_size", "64")]);
pub const MASKED_SOFTMAX: Shader =
    shader!("masked_softmax.wgsl", &[("scale", "0.25"), ("workgroup_size", "64")]);
pub const EXPERT_MIX: Shader =
    shader!("expert_mix.wgsl", &[("d", "64"), ("hidden", "128"), ("top_k", "2"), ("workgroup_size", "128")]);
/// The three attention kernels share their template variables.
const ATTENTION_VALUES: &[(&str, &str)] =
    &[("heads", "4"), ("d_head", "16"), ("scale", "0.25"), ("workgroup_size", "64")];

pub const CAUSAL_ATTENTION: Shader = shader!("causal_attention.wgsl", ATTENTION_VALUES);
pub const CAUSAL_ATTENTION_DQ: Shader = shader!("causal_attention_dq.wgsl", ATTENTION_VALUES);
pub const CAUSAL_ATTENTION_DKV: Shader = shader!("causal_attention_dkv.wgsl", ATTENTION_VALUES);
pub const GELU: Shader = shader!("gelu.wgsl", &[("workgroup_size", "64")]);
pub const GELU_BACKWARD: Shader = shader!("gelu_backward.wgsl", &[("workgroup_size", "64")]);
pub const TOKEN_LOGPROBS: Shader = shader!("token_logprobs.wgsl", &[("workgroup_size", "64")]);
pub const TOKEN_LOGPROBS_BACKWARD: Shader =
    shader!("token_logprobs_backward.wgsl", &[("workgroup_size", "64")]);
pub const ADAM_NORM: Shader = shader!("adam_norm.wgsl", &[("workgroup_size", "256")]);
pub const ADAM: Shader = shader!("adam.wgsl", &[("workgroup_size", "256")]);
pub const MATMUL_TILED: Shader = shader!("matmul_tiled.wgsl", &[]);

/// Every shader in `shaders/`; a test checks that this list and the folder agree.
pub const SHADERS: &[Shader] = &[
    ROUTER_TOPK,
    SAMPLE,
    RMS_NORM,
    RMS_NORM_BACKWARD,
    MASKED_SOFTMAX,
    EXPERT_MIX,
    CAUSAL_ATTENTION,
    CAUSAL_ATTENTION_DQ,
    CAUSAL_ATTENTION_DKV,
    GELU,
    GELU_BACKWARD,
    TOKEN_LOGPROBS,
    TOKEN_LOGPROBS_BACKWARD,
    ADAM_NORM,
    ADAM,
    MATMUL_TILED,
];

impl Shader {
    /// The WGSL with `values` filled in.
    pub fn fill(&self, values: &[(&str, String)]) -> String {
        self.template(values).complete()
    }

    fn template(&self, values: &[(&str, String)]) -> SourceTemplate {
        let pasted = INCLUDES.iter().fold(self.source.to_string(), |source, (name, include)| {
            source.replace(&format!("{{{{ {name} }}}}"), include)
        });
        values.iter().fold(SourceTemplate::new(pasted), |template, (name, value)| {
            template.register(*name, value.clone())
        })
    }
}

/// A shader with its template values, as Burn's wgpu backend compiles it. The values are part of
/// the kernel id, so each distinct filling compiles once and is cached.
pub(crate) struct FilledShader {
    pub shader: Shader,
    pub values: Vec<(&'static str, String)>,
}

impl FilledShader {
    /// Runs this shader on `like`'s device: `groups` (x, y) workgroups of `workgroup` invocations,
    /// with `buffers` bound in order to bindings 0, 1, … of group 0.
    pub fn launch(self, like: &CubeTensor, workgroup: u32, groups: (u32, u32), buffers: &[&Handle]) {
        let arguments = buffers.iter().fold(KernelArguments::new(), |arguments, buffer| {
            arguments.with_buffer((*buffer).clone().binding())
        });
        like.client.launch(
            Box::new(SourceKernel::new(self, CubeDim::new_1d(workgroup))),
            CubeCount::Static(groups.0, groups.1, 1),
            arguments,
        );
    }

    /// Runs this shader with one invocation per item: enough workgroups of `workgroup` for
    /// `items`, along x then y ([`groups_covering`]). Callers check beforehand that the items fit
    /// a dispatch (their kernels fall back to the reference when they do not).
    pub fn launch_covering(self, like: &CubeTensor, workgroup: u32, items: usize, buffers: &[&Handle]) {
        let groups =
            groups_covering(items, workgroup).expect("the caller checked that the items fit a dispatch");
        self.launch(like, workgroup, groups, buffers);
    }
}

impl KernelSource for FilledShader {
    fn source(&self) -> SourceTemplate {
        self.shader.template(&self.values)
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info((self.shader.file, self.values.clone()))
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// Workgroups one dispatch takes along one dimension (WebGPU's default
/// `maxComputeWorkgroupsPerDimension`): the row kernels launch a workgroup per row along x.
pub(crate) const MAX_WORKGROUPS_PER_DIMENSION: usize = 65_535;

/// Workgroups (x, y) of `workgroup` invocations covering `items` invocations, spilling into y past
/// [`MAX_WORKGROUPS_PER_DIMENSION`]; `None` if even that is not enough, or if `items` does not fit
/// the u32 indices the shaders count with.
pub(crate) fn groups_covering(items: usize, workgroup: u32) -> Option<(u32, u32)> {
    let limit = MAX_WORKGROUPS_PER_DIMENSION as u32;
    let total = u32::try_from(items).ok()?.div_ceil(workgroup);
    let groups = if total <= limit { (total, 1) } else { (limit, total.div_ceil(limit)) };
    (groups.1 <= limit).then_some(groups)
}

/// A small u32 buffer of run-time sizes for a kernel's `sizes` binding: sizes passed this way
/// (not as template values) let one compiled pipeline serve every shape.
pub(crate) fn sizes_buffer(like: &CubeTensor, sizes: &[u32]) -> Handle {
    like.client.create_from_slice(bytemuck::cast_slice(sizes))
}

/// The wgpu primitive of an f32 tensor (without autodiff), contiguous; `None` on other backends
/// and for other float types (every shader here reads `f32`).
pub(crate) fn cube_f32<const D: usize>(tensor: &Tensor<D>) -> Option<CubeTensor> {
    let primitive = tensor.clone().inner().try_into_primitive::<CubeBackend>().ok()?;
    // Refuse before into_contiguous, which may launch a copy.
    (primitive.dtype == DType::F32).then(|| burn::backend::wgpu::into_contiguous(primitive))
}

/// Whether `tensor` is a wgpu f32 tensor (with or without autodiff): what the differentiable
/// kernels take. Launches nothing.
/// Whether `tensor` lives on Burn's wgpu backend (whatever its dtype).
pub(crate) fn is_cube<const D: usize>(tensor: &Tensor<D>) -> bool {
    tensor.clone().inner().try_into_primitive::<CubeBackend>().is_ok()
}

pub(crate) fn is_cube_f32<const D: usize>(tensor: &Tensor<D>) -> bool {
    let primitive = tensor.clone().inner().try_into_primitive::<CubeBackend>();
    primitive.is_ok_and(|primitive| primitive.dtype == DType::F32)
}

/// The wgpu primitive of an int tensor as i32, contiguous; `None` on other backends.
pub(crate) fn cube_int<const D: usize>(tensor: &Tensor<D, Int>) -> Option<CubeTensor> {
    let i32s = tensor.clone().cast(burn::tensor::IntDType::I32);
    let primitive = i32s.try_into_primitive::<CubeBackend>().ok()?;
    Some(burn::backend::wgpu::into_contiguous(primitive))
}

/// A new uninitialised wgpu tensor on `like`'s device.
pub(crate) fn empty_like(like: &CubeTensor, shape: Shape, dtype: DType) -> CubeTensor {
    let handle = like.client.empty(shape.num_elements() * dtype.size());
    CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, dtype)
}

/// A new wgpu f32 tensor of `like`'s shape holding zeros, uploaded (no fill kernel to compile).
pub(crate) fn zeros_like(like: &CubeTensor) -> CubeTensor {
    zeros_like_typed(like, like.shape(), DType::F32)
}

/// A new wgpu tensor of zeros on `like`'s device, uploaded (no fill kernel to compile).
pub(crate) fn zeros_like_typed(like: &CubeTensor, shape: Shape, dtype: DType) -> CubeTensor {
    let handle = like.client.create_from_slice(&vec![0u8; shape.num_elements() * dtype.size()]);
    CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, dtype)
}

pub(crate) fn float_tensor<const D: usize>(primitive: CubeTensor) -> Tensor<D> {
    Tensor::from_primitive::<CubeBackend>(primitive)
}

pub(crate) fn int_tensor<const D: usize>(primitive: CubeTensor) -> Tensor<D, Int> {
    Tensor::from_primitive::<CubeBackend>(primitive)
}

#[cfg(test)]
mod tests {
    use super::groups_covering;

    #[test]
    fn groups_cover_the_items_and_refuse_what_u32_indices_cannot_count() {
        assert_eq!(groups_covering(1, 64), Some((1, 1)));
        assert_eq!(groups_covering(64 * 65_535, 64), Some((65_535, 1)));
        assert_eq!(groups_covering(64 * 65_535 + 1, 64), Some((65_535, 2)));
        if let Ok(too_many) = usize::try_from(1u64 << 32) {
            assert_eq!(groups_covering(too_many, 64), None);
        }
    }
}
