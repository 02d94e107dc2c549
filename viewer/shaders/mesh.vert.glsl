#version 330
// Interactive mesh: smooth normals, optional per-vertex colours and texture coordinates.
// Position and normal are sampled at the covered part of the pixel (centroid), so MSAA edge
// pixels never extrapolate them past the triangle.
in vec3 in_position;
in vec3 in_normal;
in vec3 in_color;
in vec2 in_uv;
uniform mat4 view;
uniform mat4 projection;
uniform float floor_y;
uniform float depth_bias;  // pulls the wireframe pass in front of the surface
centroid out vec3 v_position;
centroid out vec3 v_normal;
out vec3 v_color;
centroid out vec2 v_uv;
out float v_height;

void main() {
    vec4 position = view * vec4(in_position, 1.0);
    v_position = position.xyz;
    v_normal = mat3(view) * in_normal;
    v_color = in_color;
    v_uv = in_uv;
    v_height = in_position.y - floor_y;
    gl_Position = projection * position;
    gl_Position.z -= depth_bias * gl_Position.w;
}
