#include "match/cmaes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace td {

Cmaes::Cmaes(const CmaesOptions& o) : n_((int)o.start.size()), sigma_(o.sigma0), rng_(o.seed) {
  if (n_ < 1) throw std::invalid_argument("Cmaes: no dimensions");
  const double n = n_;
  lambda_ = o.population > 0 ? o.population : 4 + (int)std::floor(3.0 * std::log(n));
  mu_ = lambda_ / 2;
  // Tutorial (49)-(58), positive weights only: w_i proportional to ln((lambda+1)/2) - ln i.
  weights_.resize(mu_);
  for (int i = 0; i < mu_; ++i) weights_[i] = std::log((lambda_ + 1) / 2.0) - std::log(i + 1.0);
  weights_ /= weights_.sum();
  mu_eff_ = 1.0 / weights_.squaredNorm();
  c_sigma_ = (mu_eff_ + 2.0) / (n + mu_eff_ + 5.0);
  d_sigma_ = 1.0 + 2.0 * std::max(0.0, std::sqrt((mu_eff_ - 1.0) / (n + 1.0)) - 1.0) + c_sigma_;
  c_c_ = (4.0 + mu_eff_ / n) / (n + 4.0 + 2.0 * mu_eff_ / n);
  c_1_ = 2.0 / ((n + 1.3) * (n + 1.3) + mu_eff_);
  c_mu_ = std::min(1.0 - c_1_,
                   2.0 * (mu_eff_ - 2.0 + 1.0 / mu_eff_) / ((n + 2.0) * (n + 2.0) + mu_eff_));
  chi_n_ = std::sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));
  mean_ = Eigen::Map<const Eigen::VectorXd>(o.start.data(), n_);
  p_sigma_ = Eigen::VectorXd::Zero(n_);
  p_c_ = Eigen::VectorXd::Zero(n_);
  C_ = Eigen::MatrixXd::Identity(n_, n_);
  B_ = Eigen::MatrixXd::Identity(n_, n_);
  invsqrt_C_ = Eigen::MatrixXd::Identity(n_, n_);
  D_ = Eigen::VectorXd::Ones(n_);
  best_score_ = std::numeric_limits<double>::infinity();
}

std::vector<double> Cmaes::mean() const {
  return std::vector<double>(mean_.data(), mean_.data() + n_);
}

// Box-Muller on the twister's 53-bit uniforms: the same normals on every platform (the
// standard library's normal distribution is implementation-defined).
double Cmaes::normal() {
  if (spare_ready_) {
    spare_ready_ = false;
    return spare_;
  }
  auto uniform = [&] { return ((rng_() >> 11) + 0.5) * (1.0 / 9007199254740992.0); };
  const double u1 = uniform(), u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * M_PI * u2;
  spare_ = r * std::sin(a);
  spare_ready_ = true;
  return r * std::cos(a);
}

std::vector<std::vector<double>> Cmaes::ask() {
  y_.assign(lambda_, Eigen::VectorXd(n_));
  asked_.assign(lambda_, std::vector<double>(n_));
  for (int k = 0; k < lambda_; ++k) {
    Eigen::VectorXd z(n_);
    for (int i = 0; i < n_; ++i) z[i] = normal();
    y_[k] = B_ * D_.cwiseProduct(z);  // (38)-(39)
    const Eigen::VectorXd x = mean_ + sigma_ * y_[k];
    for (int i = 0; i < n_; ++i) asked_[k][i] = x[i];
  }
  return asked_;
}

void Cmaes::tell(const std::vector<double>& scores) {
  if ((int)scores.size() != lambda_) throw std::invalid_argument("Cmaes::tell: one score each");
  std::vector<int> order(lambda_);
  std::iota(order.begin(), order.end(), 0);
  // Ties keep the asked order: the same scores give the same generation.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const double sa = std::isnan(scores[a]) ? INFINITY : scores[a];
    const double sb = std::isnan(scores[b]) ? INFINITY : scores[b];
    return sa < sb;
  });
  if (scores[order[0]] < best_score_) {
    best_score_ = scores[order[0]];
    best_ = asked_[order[0]];
  }
  evaluations_ += lambda_;
  ++generation_;
  // (41)-(42): the weighted step of the best mu, and the new mean.
  Eigen::VectorXd y_w = Eigen::VectorXd::Zero(n_);
  for (int i = 0; i < mu_; ++i) y_w += weights_[i] * y_[order[i]];
  mean_ += sigma_ * y_w;
  // (43)-(44): cumulative step-size adaptation.
  p_sigma_ = (1.0 - c_sigma_) * p_sigma_ +
             std::sqrt(c_sigma_ * (2.0 - c_sigma_) * mu_eff_) * (invsqrt_C_ * y_w);
  sigma_ *= std::exp(c_sigma_ / d_sigma_ * (p_sigma_.norm() / chi_n_ - 1.0));
  // (45): the evolution path, stalled while the step size grows fast (h_sigma).
  const double norm =
      p_sigma_.norm() / std::sqrt(1.0 - std::pow(1.0 - c_sigma_, 2.0 * generation_));
  const double h_sigma = norm < (1.4 + 2.0 / (n_ + 1.0)) * chi_n_ ? 1.0 : 0.0;
  p_c_ = (1.0 - c_c_) * p_c_ + h_sigma * std::sqrt(c_c_ * (2.0 - c_c_) * mu_eff_) * y_w;
  // (47): rank-one and rank-mu updates.
  const double delta = (1.0 - h_sigma) * c_c_ * (2.0 - c_c_);
  Eigen::MatrixXd rank_mu = Eigen::MatrixXd::Zero(n_, n_);
  for (int i = 0; i < mu_; ++i) rank_mu += weights_[i] * y_[order[i]] * y_[order[i]].transpose();
  C_ = (1.0 + c_1_ * delta - c_1_ - c_mu_) * C_ + c_1_ * p_c_ * p_c_.transpose() + c_mu_ * rank_mu;
  // The eigendecomposition every few generations: its cost is then O(n^2) per candidate
  // (the tutorial's lazy update, Appendix B).
  if (generation_ - decomposed_at_ >= std::max(1.0, 1.0 / ((c_1_ + c_mu_) * n_ * 10.0)))
    decompose();
}

void Cmaes::decompose() {
  decomposed_at_ = generation_;
  // Symmetric by construction; enforce it against rounding.
  C_ = 0.5 * (C_ + C_.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(C_);
  Eigen::VectorXd values = eig.eigenvalues().cwiseMax(1e-300);
  B_ = eig.eigenvectors();
  D_ = values.cwiseSqrt();
  invsqrt_C_ = B_ * D_.cwiseInverse().asDiagonal() * B_.transpose();
}

double to_bounds(double y, double lo, double hi) {
  double u = std::fmod(y, 2.0);
  if (u < 0.0) u += 2.0;
  if (u > 1.0) u = 2.0 - u;
  return lo + (hi - lo) * u;
}

double from_bounds(double x, double lo, double hi) {
  return hi > lo ? std::clamp((x - lo) / (hi - lo), 0.0, 1.0) : 0.0;
}

}  // namespace td
