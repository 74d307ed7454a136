// CMA-ES, the covariance matrix adaptation evolution strategy, as in N. Hansen, "The CMA
// Evolution Strategy: A Tutorial", arXiv:1604.00772 (2016): the (mu/mu_W, lambda) strategy
// with rank-one and rank-mu updates and cumulative step-size adaptation, every constant
// the tutorial's defaults (its Table 1). It minimises; candidates are asked for a
// generation at a time, so a generation is one batched launch of variants (issue #19).
// Deterministic for a seed: a Mersenne twister and its own Box-Muller normals.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <random>
#include <vector>

namespace td {

struct CmaesOptions {
  std::vector<double> start;  // the initial mean (its size is the dimension)
  double sigma0 = 0.3;        // the initial step size
  int population = 0;         // lambda; 0: 4 + floor(3 ln n)
  uint64_t seed = 1;
};

class Cmaes {
 public:
  explicit Cmaes(const CmaesOptions& options);

  int dimension() const { return n_; }
  int population() const { return lambda_; }
  int generation() const { return generation_; }
  double sigma() const { return sigma_; }
  std::vector<double> mean() const;

  // The next generation's candidates (population() of them), and their scores in the same
  // order (lower is better).
  std::vector<std::vector<double>> ask();
  void tell(const std::vector<double>& scores);

  // The best candidate seen and its score.
  const std::vector<double>& best() const { return best_; }
  double best_score() const { return best_score_; }

 private:
  double normal();
  void decompose();

  int n_, lambda_, mu_;
  Eigen::VectorXd weights_;
  double mu_eff_, c_sigma_, d_sigma_, c_c_, c_1_, c_mu_, chi_n_;
  Eigen::VectorXd mean_, p_sigma_, p_c_;
  Eigen::MatrixXd C_, B_, invsqrt_C_;
  Eigen::VectorXd D_;  // square roots of C's eigenvalues
  double sigma_;
  int generation_ = 0, decomposed_at_ = 0;
  long long evaluations_ = 0;
  std::vector<Eigen::VectorXd> y_;  // the last generation's steps, B D z
  std::vector<std::vector<double>> asked_;
  std::vector<double> best_;
  double best_score_;
  std::mt19937_64 rng_;
  bool spare_ready_ = false;
  double spare_ = 0.0;
};

// The bound transform: an unbounded coordinate of the search to [lo, hi] by reflection (a
// triangle wave of period 2 over the unit interval), continuous and identity inside, so
// the strategy never proposes an illegal value and its steps keep their meaning near a
// bound (the "mirroring" of Hansen's boundary-handling notes).
double to_bounds(double y, double lo, double hi);
// Its inverse inside the bounds: a value's coordinate.
double from_bounds(double x, double lo, double hi);

}  // namespace td
