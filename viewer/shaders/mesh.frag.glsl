#version 330
#include "lighting.glsl"
uniform vec3 albedo;
uniform bool use_vertex_colors;
uniform bool use_texture;
uniform sampler2D albedo_map;  // sRGB albedo; alpha: how much light scatters under the surface
uniform float contact_height;  // ambient dims within this height above the floor
uniform bool wireframe;
uniform vec4 wire_color;
centroid in vec3 v_position;
centroid in vec3 v_normal;
in vec3 v_color;
centroid in vec2 v_uv;
in float v_height;
out vec4 f_color;

void main() {
    if (wireframe) {
        f_color = wire_color;
        return;
    }
    vec3 base = albedo;
    float scatter = 1.0;
    if (use_texture) {
        vec4 texel = texture(albedo_map, v_uv);
        base = pow(texel.rgb, vec3(2.2));
        scatter = texel.a;
    }
    if (use_vertex_colors) {
        base = pow(clamp(v_color, 0.0, 1.0), vec3(2.2));
    }
    float occlusion = mix(0.55, 1.0, smoothstep(0.0, contact_height, v_height));
    vec3 normal = normalize(gl_FrontFacing ? v_normal : -v_normal);
    f_color = vec4(shade(base, normal, v_position, occlusion, scatter), 1.0);
}
