//! A missing library or model is a clear error, never a panic (a separate process from
//! model.rs, since the runtime can be initialised once per process).

use classifiers::onnx::{ContentClassifier, ModelConfig, ModelError};

#[test]
fn a_missing_library_or_model_is_a_clear_error() {
    let err = ContentClassifier::load(ModelConfig {
        library: Some("/nonexistent/libonnxruntime.so".into()),
        ..ModelConfig::default()
    })
    .unwrap_err();
    assert!(matches!(err, ModelError::Library(_)), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/libonnxruntime.so"),
        "{err}"
    );

    let err = ContentClassifier::load(ModelConfig {
        model: Some("/nonexistent/model.onnx".into()),
        ..ModelConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/model.onnx"), "{err}");

    // A file that is not a library at all.
    let not_lib = std::env::temp_dir().join(format!("pw-notlib-{}.so", std::process::id()));
    std::fs::write(&not_lib, b"not a shared object").unwrap();
    let err = ContentClassifier::load(ModelConfig {
        library: Some(not_lib.clone()),
        ..ModelConfig::default()
    })
    .unwrap_err();
    assert!(matches!(err, ModelError::Library(_)), "{err}");
    let _ = std::fs::remove_file(not_lib);
}
