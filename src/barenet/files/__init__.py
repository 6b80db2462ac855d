"""Files: the archive format (a ZIP of .npy arrays and a JSON header), model files, ONNX export."""
