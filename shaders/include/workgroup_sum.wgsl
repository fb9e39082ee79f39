// include/workgroup_sum.wgsl — the sum over a workgroup of one value per lane, by halving in
// workgroup memory, pasted where a shader names the `workgroup_sum` template variable. The shader
// declares `const WORKGROUP` (a power of two, its workgroup size) and calls `workgroup_sum` from
// uniform control flow, as a barrier requires; every lane gets the sum.

var<workgroup> partial: array<f32, WORKGROUP>;

fn workgroup_sum(lane: u32, value: f32) -> f32 {
    partial[lane] = value;
    workgroupBarrier();
    for (var width = WORKGROUP / 2u; width > 0u; width /= 2u) {
        if lane < width {
            partial[lane] += partial[lane + width];
        }
        workgroupBarrier();
    }
    return partial[0];
}
