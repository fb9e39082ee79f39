//! Every `shaders/*.wgsl` parses and validates with naga (the compiler wgpu uses) once its
//! template variables are filled, and the kernels crate knows every file in the folder.

use aha_kernels::SHADERS;

#[test]
fn every_shader_validates_after_template_substitution() {
    for shader in SHADERS {
        let values: Vec<(&str, String)> =
            shader.example_values.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let source = shader.fill(&values);
        assert!(!source.contains("{{"), "{}: a template variable was left unfilled", shader.file);
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{} does not parse:\n{}", shader.file, e.emit_to_string(&source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{} does not validate: {e:?}", shader.file));
    }
}

#[test]
fn the_shader_list_matches_the_folder() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shaders");
    let mut on_disk: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wgsl"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = SHADERS.iter().map(|s| s.file.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    for shader in SHADERS {
        let header: String = shader.source.lines().take_while(|l| l.starts_with("//")).collect();
        for part in ["Bindings", "Template variables", "Reference"] {
            assert!(header.contains(part), "{}: the header comment lacks {part:?}", shader.file);
        }
    }
}
