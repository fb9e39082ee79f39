// include/items.wgsl — the entry point of the kernels that run one invocation per item (a row or an
// element), pasted where a shader names the `one_invocation_per_item` template variable. The
// shader binds a `sizes` array whose first value is the item count, and does one item in
// `fn one_item(index: u32)`. Workgroups run along x then y, as the host's `groups_covering`
// launches them, so more than 65,535 workgroups fit a dispatch; the invocations past the last item
// do nothing.

@compute @workgroup_size({{ workgroup_size }})
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
    let index = (group.y * groups.x + group.x) * {{ workgroup_size }}u + lane;
    if index < sizes[0] {
        one_item(index);
    }
}
