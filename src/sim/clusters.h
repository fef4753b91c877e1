// Workspace clusters: square table regions the tea bag starts in, one id per episode.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace embody::sim {

// A square region on the table, in the world frame (metres, origin under the arm's pan axis).
struct Cluster {
  double x = 0, y = 0;  // centre
  double yaw = 0;       // rotation of the square about z (radians); squares face the arm
  double size = 0.07;   // side length
};

// The default layout: 11 squares of 7 cm in two rings around the arm (radii 12.5 and 20.5 cm),
// sorted by angle from the arm's right (-y) to its left, leaving room for the mug at (0, -0.12).
// Why 7 and not 10 cm: with SO-101 link lengths and a top-down grasp of a flat bag the reachable
// table annulus (about 8.5 to 24.5 cm from the pan axis) has room for ~11 squares of 10 cm only
// at perfect packing; ClusterLayout(size) with a larger arm or a custom list gives other layouts.
std::vector<Cluster> DefaultClusters();

// The cluster held out for validation in the study (cluster 6 in the default layout).
constexpr int kValidationCluster = 6;

// Parses "x,y,yaw,size;x,y,yaw,size;..." (metres, radians), for --clusters.
Result<std::vector<Cluster>> ParseClusters(const std::string& text);

// A point uniformly inside the cluster; u, v in [0, 1).
void ClusterPoint(const Cluster& c, double u, double v, double* x, double* y);

}  // namespace embody::sim
