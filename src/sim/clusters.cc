#include "sim/clusters.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace embody::sim {

std::vector<Cluster> DefaultClusters() {
  constexpr double kDeg = M_PI / 180.0;
  // Outer ring: 24 degree spacing keeps 7 cm squares apart at their inner edge (17 cm); the two
  // slots nearest the mug (-84 and -108 degrees) are left out. Inner ring: 42.5 degree spacing;
  // its slot at -42.5 degrees would touch the mug.
  const double outer[] = {-60, -36, -12, 12, 36, 60, 84, 108};
  const double inner[] = {0, 42.5, 85};
  std::vector<Cluster> out;
  for (double a : outer) out.push_back({0.205 * std::cos(a * kDeg), 0.205 * std::sin(a * kDeg), a * kDeg, 0.07});
  for (double a : inner) out.push_back({0.125 * std::cos(a * kDeg), 0.125 * std::sin(a * kDeg), a * kDeg, 0.07});
  std::stable_sort(out.begin(), out.end(), [](const Cluster& a, const Cluster& b) { return a.yaw < b.yaw; });
  return out;
}

Result<std::vector<Cluster>> ParseClusters(const std::string& text) {
  std::vector<Cluster> out;
  std::stringstream all(text);
  std::string item;
  while (std::getline(all, item, ';')) {
    if (item.empty()) continue;
    Cluster c;
    char c1 = 0, c2 = 0, c3 = 0;
    std::stringstream one(item);
    if (!(one >> c.x >> c1 >> c.y >> c2 >> c.yaw >> c3 >> c.size) || c1 != ',' || c2 != ',' || c3 != ',')
      return InvalidArgument("cluster '" + item + "': expected x,y,yaw,size");
    if (!(c.size > 0)) return InvalidArgument("cluster '" + item + "': size must be positive");
    out.push_back(c);
  }
  if (out.empty()) return InvalidArgument("no clusters in '" + text + "'");
  return out;
}

void ClusterPoint(const Cluster& c, double u, double v, double* x, double* y) {
  const double a = (u - 0.5) * c.size, b = (v - 0.5) * c.size;
  *x = c.x + a * std::cos(c.yaw) - b * std::sin(c.yaw);
  *y = c.y + a * std::sin(c.yaw) + b * std::cos(c.yaw);
}

}  // namespace embody::sim
