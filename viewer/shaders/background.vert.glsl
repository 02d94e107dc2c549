#version 330
// One full-screen triangle from gl_VertexID (no buffers).
out float v_height;

void main() {
    vec2 position = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2) * 2.0 - 1.0;
    v_height = position.y * 0.5 + 0.5;
    gl_Position = vec4(position, 0.0, 1.0);
}
