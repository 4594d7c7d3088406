"""PeerBot's benchmark suite: ``python -m bench`` measures quality, speed and memory beside baselines.

Kept free of heavy imports so ``python -m bench.worker`` children start with only what they measure.
"""
