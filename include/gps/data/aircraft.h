// FGVC-Aircraft 2013b (https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/),
// official layout, variant level (100 classes):
//   <root>/data/images/<id>.jpg
//   <root>/data/images_variant_{train,val,trainval,test}.txt
//       one line per image: "<id> <variant name, may contain spaces>"
//   <root>/data/variants.txt   the 100 variant names, one per line (optional)
// data.root may be the fgvc-aircraft-2013b folder or its data/ folder.
// Labels: the line of the variant in variants.txt; without it, the sorted
// unique names of all images_variant_*.txt files present.
// Every image loses its bottom 20 rows (the copyright banner, as the official
// tools do) before the resize of data.resize to data.image_size.
// Normalisation: ImageNet constants (docs/reference-behaviour.md §5).
#pragma once

#include "gps/data/registry.h"

#include <string>
#include <vector>

namespace gps {

constexpr int64_t kAircraftBannerRows = 20;

struct AircraftLine {
  std::string id, variant;
};

// Parses an images_variant_*.txt file. Throws gps::Error naming the file
// (and line) when it is missing, empty or a line has no variant name.
std::vector<AircraftLine> read_aircraft_split(const std::string& path);

// data.name aircraft; splits train, val, trainval, test.
Dataset load_aircraft(const DataConfig& cfg, const std::string& split);

}  // namespace gps
