"""Lightning orchestration: dataset generation and mapper training."""
