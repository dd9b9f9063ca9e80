"""The on-disk dataset format: features, Parquet shards, manifest, Croissant and card."""
