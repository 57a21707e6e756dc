"""Using a trained model: loading a run, evaluating, predicting, exporting to ONNX/TorchScript."""
