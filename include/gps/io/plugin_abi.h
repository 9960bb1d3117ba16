// The C functions the OpenCV plugins (plugins/*.cpp) export and
// src/io/plugins.cpp calls. Both sides link the same libopencv_core, so
// cv::Mat crosses by pointer. Every function returns 0 on success; on failure
// it writes a message of at most err_len - 1 bytes into err. The _v1 suffix
// versions the contract: a changed signature gets a new name.
#pragma once

#include <cstddef>
#include <vector>

namespace cv {
class Mat;
}

extern "C" {
// libgps_imgcodecs.so
int gps_imread_v1(const char* path, int flags, cv::Mat* out, char* err, size_t err_len);
int gps_imdecode_v1(const unsigned char* data, size_t size, int flags, cv::Mat* out, char* err, size_t err_len);
int gps_imencode_jpeg_v1(const cv::Mat* image, int quality, std::vector<unsigned char>* out, char* err, size_t err_len);
// libgps_onnx.so
int gps_onnx_open_v1(const char* path, void** net, char* err, size_t err_len);
int gps_onnx_forward_v1(void* net, const cv::Mat* input, cv::Mat* output, char* err, size_t err_len);
void gps_onnx_close_v1(void* net);
}
