//! Optimizers, learning-rate schedules, gradient clipping and weight penalties.
