#version 330
// A square on the floor plane, drawn as a 4-vertex strip from gl_VertexID (no buffers).
uniform vec4 floor_rect;  // x0, z0, x1, z1
uniform float floor_y;
uniform mat4 view;
uniform mat4 projection;
out vec2 v_xz;

void main() {
    vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1);
    v_xz = mix(floor_rect.xy, floor_rect.zw, corner);
    gl_Position = projection * view * vec4(v_xz.x, floor_y, v_xz.y, 1.0);
}
