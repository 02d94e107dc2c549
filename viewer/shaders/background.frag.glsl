#version 330
uniform vec3 top_color;
uniform vec3 bottom_color;
in float v_height;
out vec4 f_color;

void main() {
    f_color = vec4(mix(bottom_color, top_color, clamp(v_height, 0.0, 1.0)), 1.0);
}
