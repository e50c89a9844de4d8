// The parts of three.js that viewer.html uses, bundled by build-three.sh into one minified IIFE
// (global THREE) that the page inlines: no modules, no network, works from a file:// URL.
export {
  AmbientLight, BufferAttribute, BufferGeometry, DirectionalLight, DoubleSide, Mesh, MeshLambertMaterial,
  PerspectiveCamera, Points, PointsMaterial, Scene, Vector2, Vector3, WebGLRenderer,
} from "three";
export { OrbitControls } from "three/addons/controls/OrbitControls.js";
