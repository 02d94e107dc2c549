#version 330
// Batch shading, kept cheap for a CPU rasteriser: flat normals from screen-space derivatives
// (no normal upload), the key and fill lights, the sky/ground term and a squared rim, with
// sqrt as the display gamma. Same light uniforms as lighting.glsl.
uniform vec3 albedo;
uniform vec3 key_direction;
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 rim_color;
uniform vec3 sky_color;
uniform vec3 ground_color;
uniform vec3 up_view;
in vec3 v_position;
out vec4 f_color;

void main() {
    vec3 n = normalize(cross(dFdx(v_position), dFdy(v_position)));
    vec3 to_eye = normalize(-v_position);
    float fill = 0.5 + 0.5 * dot(n, fill_direction);
    vec3 light = mix(ground_color, sky_color, 0.5 + 0.5 * dot(n, up_view))
                 + key_color * max(dot(n, key_direction), 0.0) + fill_color * fill * fill;
    float edge = 1.0 - max(dot(n, to_eye), 0.0);
    f_color = vec4(sqrt(clamp(albedo * light + rim_color * edge * edge * 0.5, 0.0, 1.0)), 1.0);
}
