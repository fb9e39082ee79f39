//! Checkpoints round-trip bit-exactly, and bad ones are refused with a clear error.

use aha_model::{Model, ModelConfig, MoeConfig};
use aha_tokenizer::CharTokenizer;
use aha_train::{Checkpoint, CheckpointError, copy_to_cpu, export_safetensors, load_weights};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

fn config(tok: &CharTokenizer) -> ModelConfig {
    ModelConfig::new(tok.vocab_size(), MoeConfig::new().with_d_expert(24).with_shared_expert(true))
        .with_d_model(16)
        .with_n_heads(2)
        .with_max_seq_len(20)
}

/// Every float parameter, flattened in visit order.
fn weights(model: &Model) -> Vec<Vec<f32>> {
    struct All(Vec<Vec<f32>>);
    impl ModuleVisitor for All {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.val().into_data().try_into_vec_as::<f32>().unwrap());
        }
    }
    let mut all = All(Vec::new());
    model.visit(&mut all);
    all.0
}

fn saved() -> (Model, Checkpoint, Device) {
    let tok = CharTokenizer::new();
    let device = Device::flex();
    let config = config(&tok);
    let model = config.init_seeded(&device, 9);
    let checkpoint = Checkpoint::from_model(&model, &config, &tok).unwrap();
    (model, checkpoint, device)
}

#[test]
fn the_same_seed_saves_the_same_bytes() {
    // Burn's parameter ids are random; saving numbers them, so a rebuilt checkpoint compares equal.
    let (_, first, _) = saved();
    let (_, second, _) = saved();
    assert!(first.weights() == second.weights(), "two saves of one seeded model differ");
}

#[test]
fn round_trip_is_bit_exact_in_memory_and_on_disk() {
    let (model, checkpoint, device) = saved();
    let loaded = checkpoint.load_model(&device).unwrap();
    assert_eq!(weights(&loaded), weights(&model));

    let dir = std::env::temp_dir().join(format!("aha-ckpt-{}", std::process::id()));
    checkpoint.save_dir(&dir).unwrap();
    let back = Checkpoint::load_dir(&dir).unwrap();
    assert_eq!(back.config, checkpoint.config);
    assert_eq!(weights(&back.load_model(&device).unwrap()), weights(&model));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_async_copy_has_the_same_weights_and_saves_the_same_bytes() {
    let (model, checkpoint, _) = saved();
    let copy = pollster::block_on(copy_to_cpu(&model, &checkpoint.config)).unwrap();
    assert_eq!(weights(&copy), weights(&model));
    let resaved = Checkpoint::from_model(&copy, &checkpoint.config, &CharTokenizer::new()).unwrap();
    assert!(resaved.weights() == checkpoint.weights());
    // A model that does not match the config is refused, not half-copied.
    let other = config(&CharTokenizer::new()).with_d_model(32);
    let err = pollster::block_on(copy_to_cpu(&model, &other)).unwrap_err();
    assert!(matches!(err, CheckpointError::Weights(_)), "{err:?}");
}

#[test]
fn truncated_and_corrupt_weights_are_refused() {
    let (_, checkpoint, device) = saved();
    let tok = CharTokenizer::new();
    let config_json = checkpoint.config.to_json();
    let tok_json = tok.to_json().unwrap();
    let bytes = checkpoint.weights().to_vec();
    for bad in [
        bytes[..bytes.len() / 2].to_vec(),
        bytes[..16].to_vec(),
        vec![0u8; 64],
        b"not a burn record at all".to_vec(),
    ] {
        let ck = Checkpoint::from_parts(&config_json, &tok_json, bad).unwrap();
        let err = ck.load_model(&device).unwrap_err();
        assert!(matches!(err, CheckpointError::Weights(_)), "{err:?}");
    }
    let err = Checkpoint::from_parts(&config_json, &tok_json, Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "model.bpk: the file is empty");
}

#[test]
fn wrong_shapes_and_vocabularies_are_refused() {
    let (_, checkpoint, device) = saved();
    let tok = CharTokenizer::new();
    let tok_json = tok.to_json().unwrap();

    // Weights of a d_model 16 model under a config that says 32.
    let wider = checkpoint.config.clone().with_d_model(32);
    let ck = Checkpoint::from_parts(&wider.to_json(), &tok_json, checkpoint.weights().to_vec()).unwrap();
    let err = ck.load_model(&device).unwrap_err().to_string();
    assert!(err.starts_with("model.bpk:"), "{err}");

    // A config whose vocabulary is not the tokenizer's.
    let other_vocab = ModelConfig { vocab_size: 60, ..checkpoint.config.clone() };
    let err =
        Checkpoint::from_parts(&other_vocab.to_json(), &tok_json, checkpoint.weights().to_vec()).unwrap_err();
    assert_eq!(err, CheckpointError::VocabMismatch { config: 60, tokenizer: tok.vocab_size() });

    // Not a config, not a tokenizer.
    let bytes = checkpoint.weights().to_vec();
    assert!(matches!(
        Checkpoint::from_parts("{}", &tok_json, bytes.clone()),
        Err(CheckpointError::Config(_))
    ));
    assert!(matches!(
        Checkpoint::from_parts(&checkpoint.config.to_json(), "{\"model\":1}", bytes),
        Err(CheckpointError::Tokenizer(_))
    ));
}

/// A record whose tensor is not f32 is refused by name: Burn would load it in the record's dtype
/// and panic (an integer tensor) or break the first forward pass (f16). The fuzz target found the
/// integer case.
#[test]
fn weights_of_another_dtype_are_refused_by_name() {
    use burn::tensor::Bytes;
    use burn_pack::{DType, Reader, Writer};
    let (_, checkpoint, device) = saved();
    for (dtype, width) in [(DType::I32, 4), (DType::F16, 2)] {
        let mut tensors = Reader::from_bytes(Bytes::from_bytes_vec(checkpoint.weights().to_vec()))
            .unwrap()
            .into_tensors()
            .unwrap();
        let victim = &mut tensors[3];
        let elements: usize = victim.shape.iter().product();
        let name = victim.name.clone();
        *victim = burn_pack::Tensor::new(
            name.clone(),
            dtype,
            victim.shape.clone(),
            victim.param_id,
            Bytes::from_bytes_vec(vec![0; elements * width]),
        );
        let bytes = Writer::new(tensors).into_bytes().unwrap().to_vec();
        let err = load_weights(&checkpoint.config, bytes, &device).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("model.bpk: {name} is stored as {dtype:?}; Aha's weights are f32")
        );
    }
}

#[test]
fn safetensors_export_has_hf_names_and_pytorch_layouts() {
    let (model, checkpoint, _) = saved();
    let bytes = export_safetensors(&model, &checkpoint.config).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<&str> = st.names();
    names.sort();
    let v = checkpoint.config.vocab_size;
    let shape = |name: &str| st.tensor(name).unwrap().shape().to_vec();
    assert_eq!(shape("model.embed_tokens.weight"), [v, 16]);
    assert_eq!(shape("lm_head.weight"), [v, 16]);
    assert_eq!(shape("model.layers.1.self_attn.qkv_proj.weight"), [48, 16]);
    assert_eq!(shape("model.layers.0.mlp.gate.weight"), [4, 16]);
    assert_eq!(shape("model.layers.0.mlp.experts.3.up_proj.weight"), [24, 16]);
    assert_eq!(shape("model.layers.0.mlp.experts.3.down_proj.weight"), [16, 24]);
    assert_eq!(shape("model.layers.1.mlp.shared_expert.up_proj.weight"), [24, 16]);
    assert_eq!(shape("model.layers.0.input_layernorm.weight"), [16]);
    // 4 globals + per layer (2 norms + 2 attention + router + 2·4 experts + 2 shared) = 4 + 2·15.
    assert_eq!(names.len(), 34, "{names:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever bytes arrive as `model.bpk` — a real record cut short, with bytes overwritten, or
    /// noise — loading returns a model or an error; it never panics.
    #[test]
    fn damaged_weights_never_panic(
        cut in 0.0f64..1.0,
        flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..8),
        noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..256),
        use_noise in proptest::prelude::any::<bool>(),
    ) {
        let (_, checkpoint, device) = saved();
        let tok = CharTokenizer::new();
        let mut bytes = if use_noise { noise } else { checkpoint.weights().to_vec() };
        let len = ((bytes.len() as f64 * cut) as usize).max(1);
        bytes.truncate(len);
        for (at, value) in flips {
            let i = ((bytes.len() as f64 * at) as usize).min(bytes.len() - 1);
            bytes[i] = value;
        }
        let parts = Checkpoint::from_parts(&checkpoint.config.to_json(), &tok.to_json().unwrap(), bytes);
        if let Ok(ck) = parts {
            let _ = ck.load_model(&device);
        }
    }
}

/// The checkpoint_loader fuzz target starts from fuzz/seeds/checkpoint.bpk, a record of a small model
/// (fast to load, so 1e6 inputs fit in minutes). This keeps the seed a current, loadable record:
/// if Burn's format changes, rerun with `AHA_BLESS_FUZZ_SEED=1` to write it anew.
#[test]
fn the_fuzz_seed_is_a_loadable_record_of_the_fuzz_config() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let config_json = std::fs::read_to_string(seeds.join("checkpoint-config.json")).unwrap();
    let config = ModelConfig::from_json(&config_json).unwrap();
    let device = Device::flex();
    let model = config.init_seeded(&device, 1);
    let seed_path = seeds.join("checkpoint.bpk");
    if std::env::var_os("AHA_BLESS_FUZZ_SEED").is_some() {
        let checkpoint = Checkpoint::from_model(&model, &config, &CharTokenizer::new()).unwrap();
        std::fs::write(&seed_path, checkpoint.weights()).unwrap();
    }
    let seed = std::fs::read(&seed_path).unwrap();
    let loaded =
        load_weights(&config, seed, &device).expect("the seed loads: rerun with AHA_BLESS_FUZZ_SEED=1");
    assert_eq!(weights(&loaded), weights(&model));
}
