"""Benchmarks: spec model, submissions, queue, leaderboard, built-in baselines."""
