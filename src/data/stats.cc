#include "data/stats.h"

#include <algorithm>
#include <cmath>

namespace embody::data {

namespace {

constexpr int kBins = 5000;

// np.linspace(lo, hi, kBins + 1)
std::vector<double> Edges(double lo, double hi) {
  std::vector<double> e(kBins + 1);
  const double step = (hi - lo) / kBins;
  for (int i = 0; i <= kBins; ++i) e[static_cast<size_t>(i)] = lo + i * step;
  e[kBins] = hi;
  return e;
}

// np.histogram(x, bins=edges) bin of x: edges[i] <= x < edges[i+1], the last bin closed.
int BinOf(const std::vector<double>& edges, double x) {
  if (x < edges.front() || x > edges.back()) return -1;
  int i = static_cast<int>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin()) - 1;
  return std::min(i, kBins - 1);
}

// RunningQuantileStats._compute_single_quantile
double Quantile(const std::vector<double>& hist, const std::vector<double>& edges, double target) {
  std::vector<double> cum(hist.size());
  double acc = 0;
  for (size_t i = 0; i < hist.size(); ++i) cum[i] = acc += hist[i];
  const size_t idx = static_cast<size_t>(std::lower_bound(cum.begin(), cum.end(), target) - cum.begin());
  if (idx == 0) return edges[0];
  if (idx >= cum.size()) return edges.back();
  const double before = cum[idx - 1];
  const double in_bin = cum[idx] - before;
  if (in_bin == 0) return edges[idx];
  return edges[idx] + (target - before) / in_bin * (edges[idx + 1] - edges[idx]);
}

}  // namespace

FeatureStats ComputeVectorStats(const double* rows, int64_t n, int64_t dim) {
  FeatureStats s;
  s.shape = {dim};
  s.count = n;
  const auto d = static_cast<size_t>(dim);
  s.min.assign(d, 0);
  for (size_t k = 0; k < d && n > 0; ++k) s.min[k] = rows[k];
  s.max = s.min;
  s.mean.assign(d, 0);
  s.std.assign(d, 0);
  std::vector<double> msq(d, 0);
  for (int64_t r = 0; r < n; ++r)
    for (size_t k = 0; k < d; ++k) {
      const double v = rows[static_cast<size_t>(r) * d + k];
      s.min[k] = std::min(s.min[k], v);
      s.max[k] = std::max(s.max[k], v);
      s.mean[k] += v;
      msq[k] += v * v;
    }
  for (size_t k = 0; k < d; ++k) {
    if (n) s.mean[k] /= static_cast<double>(n), msq[k] /= static_cast<double>(n);
    s.std[k] = std::sqrt(std::max(0.0, msq[k] - s.mean[k] * s.mean[k]));
  }
  if (n < 2) {
    for (auto& q : s.q) q = s.mean;
    return s;
  }
  for (auto& q : s.q) q.assign(d, 0);
  for (size_t k = 0; k < d; ++k) {
    const std::vector<double> edges = Edges(s.min[k] - 1e-10, s.max[k] + 1e-10);
    std::vector<double> hist(kBins, 0);
    for (int64_t r = 0; r < n; ++r) {
      const int b = BinOf(edges, rows[static_cast<size_t>(r) * d + k]);
      if (b >= 0) hist[static_cast<size_t>(b)] += 1;
    }
    for (size_t qi = 0; qi < kQuantiles.size(); ++qi) s.q[qi][k] = Quantile(hist, edges, kQuantiles[qi] * n);
  }
  return s;
}

std::vector<int64_t> SampleFrameIndices(int64_t length) {
  // estimate_num_samples: max(min(100, len), min(int(len^0.75), 10000))
  const int64_t lo = std::min<int64_t>(100, length);
  const int64_t n = std::max(lo, std::min<int64_t>(static_cast<int64_t>(std::pow(static_cast<double>(length), 0.75)), 10000));
  std::vector<int64_t> out;
  if (length <= 0) return out;
  for (int64_t i = 0; i < n; ++i) {
    // np.round(np.linspace(0, len - 1, n)): round half to even
    const double x = n == 1 ? 0.0 : static_cast<double>(length - 1) * static_cast<double>(i) / static_cast<double>(n - 1);
    out.push_back(static_cast<int64_t>(std::nearbyint(x)));
  }
  return out;
}

void ImageStatsBuilder::AddFrame(const uint8_t* rgb, int height, int width) {
  // auto_downsample_height_width: stride int(W/150) if W > H else int(H/150), when max >= 300
  int stride = 1;
  if (std::max(height, width) >= 300) stride = width > height ? width / 150 : height / 150;
  stride = std::max(stride, 1);
  auto& h = hist_.emplace_back();
  for (auto& ch : h) ch.fill(0);
  for (int y = 0; y < height; y += stride) {
    const uint8_t* row = rgb + static_cast<size_t>(y) * width * 3;
    for (int x = 0; x < width; x += stride) {
      const uint8_t* p = row + static_cast<size_t>(x) * 3;
      ++h[0][p[0]];
      ++h[1][p[1]];
      ++h[2][p[2]];
    }
  }
}

FeatureStats ImageStatsBuilder::Finish() const {
  FeatureStats s;
  s.shape = {3, 1, 1};
  const std::vector<int64_t> picks = SampleFrameIndices(frames());
  s.count = static_cast<int64_t>(picks.size());
  for (auto& q : s.q) q.assign(3, 0);
  s.min.assign(3, 0);
  s.max.assign(3, 0);
  s.mean.assign(3, 0);
  s.std.assign(3, 0);
  for (int c = 0; c < 3; ++c) {
    std::array<double, 256> h{};
    for (int64_t f : picks)
      for (int v = 0; v < 256; ++v) h[static_cast<size_t>(v)] += hist_[static_cast<size_t>(f)][static_cast<size_t>(c)][static_cast<size_t>(v)];
    double n = 0, sum = 0, sq = 0;
    int lo = 255, hi = 0;
    for (int v = 0; v < 256; ++v) {
      const double k = h[static_cast<size_t>(v)];
      if (k == 0) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      n += k;
      sum += k * v;
      sq += k * v * v;
    }
    if (n == 0) continue;
    const double mean = sum / n;
    s.min[static_cast<size_t>(c)] = lo / 255.0;
    s.max[static_cast<size_t>(c)] = hi / 255.0;
    s.mean[static_cast<size_t>(c)] = mean / 255.0;
    s.std[static_cast<size_t>(c)] = std::sqrt(std::max(0.0, sq / n - mean * mean)) / 255.0;
    if (n < 2) {
      for (auto& q : s.q) q[static_cast<size_t>(c)] = mean / 255.0;
      continue;
    }
    const std::vector<double> edges = Edges(lo - 1e-10, hi + 1e-10);
    std::vector<double> hist(kBins, 0);
    for (int v = lo; v <= hi; ++v) {
      const int b = BinOf(edges, v);
      if (b >= 0) hist[static_cast<size_t>(b)] += h[static_cast<size_t>(v)];
    }
    for (size_t qi = 0; qi < kQuantiles.size(); ++qi)
      s.q[qi][static_cast<size_t>(c)] = Quantile(hist, edges, kQuantiles[qi] * n) / 255.0;
  }
  return s;
}

StatsMap AggregateStats(const std::vector<StatsMap>& episodes) {
  StatsMap out;
  std::map<std::string, std::vector<const FeatureStats*>> by_key;
  for (const StatsMap& m : episodes)
    for (const auto& [k, v] : m) by_key[k].push_back(&v);
  for (const auto& [key, list] : by_key) {
    FeatureStats a;
    a.shape = list[0]->shape;
    const size_t d = list[0]->mean.size();
    bool consistent = true;
    for (const FeatureStats* s : list) consistent &= s->mean.size() == d && s->min.size() == d && s->max.size() == d &&
                                                       s->std.size() == d;
    if (!consistent) continue;
    a.min = list[0]->min;
    a.max = list[0]->max;
    a.mean.assign(d, 0);
    a.std.assign(d, 0);
    double total = 0;
    for (const FeatureStats* s : list) total += static_cast<double>(s->count);
    a.count = static_cast<int64_t>(total);
    bool quantiles = true;
    for (const FeatureStats* s : list) {
      for (size_t k = 0; k < d; ++k) {
        a.min[k] = std::min(a.min[k], s->min[k]);
        a.max[k] = std::max(a.max[k], s->max[k]);
        a.mean[k] += s->mean[k] * static_cast<double>(s->count);
      }
      quantiles &= s->has_quantiles() && s->q[0].size() == d;
    }
    for (size_t k = 0; k < d; ++k) a.mean[k] = total > 0 ? a.mean[k] / total : 0;
    for (const FeatureStats* s : list)
      for (size_t k = 0; k < d; ++k) {
        const double dm = s->mean[k] - a.mean[k];
        a.std[k] += (s->std[k] * s->std[k] + dm * dm) * static_cast<double>(s->count);
      }
    for (size_t k = 0; k < d; ++k) a.std[k] = total > 0 ? std::sqrt(a.std[k] / total) : 0;
    if (quantiles) {
      for (size_t qi = 0; qi < kQuantiles.size(); ++qi) {
        a.q[qi].assign(d, 0);
        for (const FeatureStats* s : list)
          for (size_t k = 0; k < d; ++k) a.q[qi][k] += s->q[qi][k] * static_cast<double>(s->count);
        for (size_t k = 0; k < d; ++k) a.q[qi][k] = total > 0 ? a.q[qi][k] / total : 0;
      }
    }
    out[key] = std::move(a);
  }
  return out;
}

namespace {

// Nests flat values by shape: {3,1,1} -> [[[a]],[[b]],[[c]]].
io::Json Nest(const std::vector<double>& v, const std::vector<int64_t>& shape, size_t dim, size_t* pos) {
  io::Json arr = io::Json::array();
  const int64_t n = dim < shape.size() ? shape[dim] : 0;
  for (int64_t i = 0; i < n; ++i) {
    if (dim + 1 == shape.size()) arr.push_back(*pos < v.size() ? v[(*pos)++] : 0.0);
    else arr.push_back(Nest(v, shape, dim + 1, pos));
  }
  return arr;
}
io::Json Nest(const std::vector<double>& v, const std::vector<int64_t>& shape) {
  size_t pos = 0;
  std::vector<int64_t> sh = shape.empty() ? std::vector<int64_t>{static_cast<int64_t>(v.size())} : shape;
  int64_t n = 1;
  for (int64_t d : sh) n *= d;
  if (n != static_cast<int64_t>(v.size())) sh = {static_cast<int64_t>(v.size())};
  return Nest(v, sh, 0, &pos);
}

Status Flatten(const io::Json& j, std::vector<double>* out, std::vector<int64_t>* shape, size_t depth, int budget,
               const std::string& where) {
  if (budget <= 0) return DataLoss(where + ": nested too deep");
  if (j.is_number()) {
    out->push_back(j.get<double>());
    return Status::Ok();
  }
  if (!j.is_array()) return DataLoss(where + ": expected numbers or lists of numbers");
  if (shape->size() <= depth) shape->push_back(static_cast<int64_t>(j.size()));
  for (const auto& e : j) EMBODY_TRY(Flatten(e, out, shape, depth + 1, budget - 1, where));
  return Status::Ok();
}

}  // namespace

io::Json StatsToJson(const StatsMap& stats) {
  io::Json j = io::Json::object();
  for (const auto& [key, s] : stats) {
    io::Json f = io::Json::object();
    f["min"] = Nest(s.min, s.shape);
    f["max"] = Nest(s.max, s.shape);
    f["mean"] = Nest(s.mean, s.shape);
    f["std"] = Nest(s.std, s.shape);
    f["count"] = io::Json::array({s.count});
    if (s.has_quantiles())
      for (size_t qi = 0; qi < kQuantiles.size(); ++qi) f[kQuantileKeys[qi]] = Nest(s.q[qi], s.shape);
    j[key] = f;
  }
  return j;
}

Result<StatsMap> StatsFromJson(const io::Json& j, const std::string& file) {
  if (!j.is_object()) return DataLoss(file + ": expected a JSON object of features");
  StatsMap out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string feat = it.key();
    if (!it->is_object()) return DataLoss(file + ": " + feat + ": expected an object of stats");
    FeatureStats s;
    auto get = [&](const char* name, std::vector<double>* v, bool required) -> Status {
      auto f = it->find(name);
      if (f == it->end()) return required ? DataLoss(file + ": " + feat + "." + name + ": missing") : Status::Ok();
      std::vector<int64_t> shape;
      EMBODY_TRY(Flatten(*f, v, &shape, 0, 8, file + ": " + feat + "." + name));
      if (std::string(name) == "mean") s.shape = shape;
      return Status::Ok();
    };
    EMBODY_TRY(get("mean", &s.mean, true));
    EMBODY_TRY(get("std", &s.std, true));
    EMBODY_TRY(get("min", &s.min, true));
    EMBODY_TRY(get("max", &s.max, true));
    const size_t d = s.mean.size();
    if (s.std.size() != d || s.min.size() != d || s.max.size() != d)
      return DataLoss(file + ": " + feat + ": min/max/mean/std have different sizes");
    for (size_t qi = 0; qi < kQuantiles.size(); ++qi) {
      EMBODY_TRY(get(kQuantileKeys[qi], &s.q[qi], false));
      if (!s.q[qi].empty() && s.q[qi].size() != d)
        return DataLoss(file + ": " + feat + "." + kQuantileKeys[qi] + ": size differs from mean");
    }
    if (!s.q[0].empty())
      for (const auto& q : s.q)
        if (q.empty()) {
          for (auto& qq : s.q) qq.clear();
          break;
        }
    std::vector<double> count;
    EMBODY_TRY(get("count", &count, false));
    if (!count.empty()) s.count = static_cast<int64_t>(count[0]);
    out[feat] = std::move(s);
  }
  return out;
}

}  // namespace embody::data
