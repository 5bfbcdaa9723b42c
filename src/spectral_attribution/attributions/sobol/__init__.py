"""The Sobol' machinery: design (quasi-Monte Carlo masks), Jansen estimators, row updates, the batched engine."""
