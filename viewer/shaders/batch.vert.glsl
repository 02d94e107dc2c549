#version 330
// Batch meshes: positions only; flat normals come from screen-space derivatives.
in vec3 in_position;
uniform mat4 view;
uniform mat4 projection;
out vec3 v_position;

void main() {
    vec4 position = view * vec4(in_position, 1.0);
    v_position = position.xyz;
    gl_Position = projection * position;
}
