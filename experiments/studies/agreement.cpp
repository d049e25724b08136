#include "experiments/studies/agreement.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "nn/files.hpp"

namespace lab {
namespace {

// Mean and standard error of the mean.
std::pair<double, double> mean_sem(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  const double n = static_cast<double>(v.size());
  return {m, n > 1 ? std::sqrt(ss / (n - 1) / n) : 0.0};
}

// b with each of the first k rewards of every sequence replaced by f(r, the k rewards of its sequence).
template <class F>
Batch<double> map_rewards(const Batch<double>& b, std::size_t k, F f) {
  Batch<double> out = b;
  out.rs = ag::TensorD::zeros(b.rs.shape());
  const std::size_t B = b.rs.shape()[0], N = b.rs.shape()[1];
  const double* r = b.rs.data();
  double* o = out.rs.data();
  for (std::size_t s = 0; s < B; ++s) {
    const double* row = r + s * N;
    for (std::size_t i = 0; i < N; ++i) o[s * N + i] = i < k ? f(row[i], row, k) : row[i];
  }
  return out;
}

}  // namespace

std::vector<RewardMap> increasing_reward_maps() {
  auto pointwise = [](std::string name, double (*f)(double)) {
    return RewardMap{std::move(name), [f](const Batch<double>& b, std::size_t k) {
                       return map_rewards(b, k, [f](double r, const double*, std::size_t) { return f(r); });
                     }};
  };
  return {
      pointwise("r^2", [](double r) { return r * r; }),
      pointwise("sqrt(r)", [](double r) { return std::sqrt(r); }),
      pointwise("0.5+0.5r", [](double r) { return 0.5 + 0.5 * r; }),
      pointwise("0.2r", [](double r) { return 0.2 * r; }),
      // The rank among the k rewards seen (1 = lowest), over k: only the order survives.
      {"rank/k", [](const Batch<double>& b, std::size_t k) {
         return map_rewards(b, k, [](double r, const double* row, std::size_t n) {
           double below = 1;
           for (std::size_t j = 0; j < n; ++j) below += row[j] < r ? 1 : 0;
           return below / static_cast<double>(n);
         });
       }},
  };
}

std::vector<double> cosines(const ag::TensorD& a, const ag::TensorD& c) {
  return ag::cosine_similarity(a, c, -1).to_vector();
}

std::vector<double> direction_distances(const ag::TensorD& a, const ag::TensorD& c) {
  const std::size_t B = a.shape()[0], d = a.shape()[1];
  std::vector<double> out(B);
  for (std::size_t s = 0; s < B; ++s) {
    const double* x = a.data() + s * d;
    const double* y = c.data() + s * d;
    double nx = 0, ny = 0;
    for (std::size_t i = 0; i < d; ++i) nx += x[i] * x[i], ny += y[i] * y[i];
    nx = std::sqrt(nx), ny = std::sqrt(ny);
    double dist = 0;
    for (std::size_t i = 0; i < d; ++i) dist += (x[i] / nx - y[i] / ny) * (x[i] / nx - y[i] / ny);
    out[s] = std::sqrt(dist);
  }
  return out;
}

std::vector<AgreementRow> agreement_study(const std::vector<Answerer>& answerers,
                                          const Answerer& reference, const Batch<double>& b, std::size_t N) {
  std::vector<AgreementRow> rows;
  auto add = [&](const std::string& measure, const std::string& method, const std::string& map, std::size_t k,
                 const std::vector<double>& v) {
    const auto [m, s] = mean_sem(v);
    rows.push_back({measure, method, map, k, m, s, v.size()});
  };
  std::vector<Answerer> all = answerers;
  all.push_back(reference);
  const auto maps = increasing_reward_maps();
  for (std::size_t k = 1; k < N; ++k) {
    const ag::TensorD ref = reference(b, k);
    for (const Answerer& answer : all) {
      const std::string& name = answer.name;
      const ag::TensorD a = answer(b, k);
      add("cos_with_gd", name, "", k, cosines(a, ref));
      add("direction_distance_to_gd", name, "", k, direction_distances(a, ref));
      for (const RewardMap& map : maps) {
        std::vector<double> shift = cosines(answer(map.apply(b, k), k), a);
        for (double& x : shift) x = 1 - x;
        add("map_shift", name, map.name, k, shift);
      }
    }
  }
  return rows;
}

void write_agreement_csv(const std::string& path, const std::vector<AgreementRow>& rows) {
  std::ostringstream out;
  out << "measure,method,map,k,mean,sem,n\n";
  out.precision(10);
  for (const auto& r : rows) out << r.measure << ',' << r.method << ',' << r.map << ',' << r.k << ',' << r.mean << ',' << r.sem << ',' << r.n << '\n';
  nn::write_atomically(path, out.str());
}

}  // namespace lab
