#version 330
#include "lighting.glsl"
uniform vec3 albedo;
uniform bool use_vertex_colors;
uniform float contact_height;  // ambient dims within this height above the floor
uniform bool wireframe;
uniform vec4 wire_color;
in vec3 v_position;
in vec3 v_normal;
in vec3 v_color;
in float v_height;
out vec4 f_color;

void main() {
    if (wireframe) {
        f_color = wire_color;
        return;
    }
    vec3 base = use_vertex_colors ? pow(clamp(v_color, 0.0, 1.0), vec3(2.2)) : albedo;
    float occlusion = mix(0.55, 1.0, smoothstep(0.0, contact_height, v_height));
    f_color = vec4(shade(base, normalize(v_normal), v_position, occlusion), 1.0);
}
