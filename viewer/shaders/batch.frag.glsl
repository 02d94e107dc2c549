#version 330
// Batch shading, kept cheap for a CPU rasteriser: flat normals from screen-space derivatives
// (no normal upload), the key light (wrapped for skin, as in lighting.glsl) and fill, the
// sky/ground term and a squared rim, with sqrt as the display gamma.
uniform float subsurface;
uniform vec3 key_direction;
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 rim_color;
uniform vec3 sky_color;
uniform vec3 ground_color;
uniform vec3 up_view;
in vec3 v_position;
in vec3 v_albedo;
out vec4 f_color;

const vec3 SCATTER_REACH = vec3(0.32, 0.12, 0.07);

void main() {
    vec3 n = normalize(cross(dFdx(v_position), dFdy(v_position)));
    vec3 to_eye = normalize(-v_position);
    vec3 albedo = v_albedo;
    float fill = 0.5 + 0.5 * dot(n, fill_direction);
    vec3 wrap = subsurface * SCATTER_REACH;
    vec3 key = clamp((dot(n, key_direction) + wrap) / (1.0 + wrap), 0.0, 1.0);
    vec3 light = mix(ground_color, sky_color, 0.5 + 0.5 * dot(n, up_view))
                 + key_color * key + fill_color * fill * fill;
    float edge = 1.0 - max(dot(n, to_eye), 0.0);
    f_color = vec4(sqrt(clamp(albedo * light + rim_color * edge * edge * 0.5, 0.0, 1.0)), 1.0);
}
