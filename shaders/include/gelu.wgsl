// include/gelu.wgsl — GELU's exact (erf) form, shared by the kernels that apply it
// (`expert_mix.wgsl`, `gelu.wgsl`): pasted where a shader names the `gelu_functions` template
// variable, so decoding and training compute the same function. erf is Abramowitz & Stegun 7.1.26
// (max error 1.5e-7), the polynomial CubeCL's own erf uses for Burn; odd-extended from |v|.

fn erf(v: f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = ((((1.0614054 * t - 1.453152) * t + 1.4214137) * t - 0.28449674) * t + 0.2548296) * t;
    let positive = 1.0 - poly * exp(-a * a);
    return select(positive, -positive, v < 0.0);
}

// x · (1 + erf(x / √2)) / 2, in the order Burn's `gelu` computes it.
fn gelu(v: f32) -> f32 {
    return v * (erf(v / 1.4142135623730951) + 1.0) / 2.0;
}
