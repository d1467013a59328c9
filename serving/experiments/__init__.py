"""Online experiments: definitions, allocation (fixed split, epsilon-greedy, Thompson sampling,
canary stages), rewards attributed from the interaction stream, and the decisions they lead to."""
