//! Recurrent steps: RNN, LSTM and GRU cells and sequences, in PyTorch's gate order.
