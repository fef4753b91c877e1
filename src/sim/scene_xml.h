// The tea-bag task's MJCF (assets/tea_bag_task.xml), compiled into the library.
#pragma once

namespace embody::sim {

const char* TeaBagSceneXml();

}  // namespace embody::sim
