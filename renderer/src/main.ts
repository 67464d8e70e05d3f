/** The renderer's entry: one bridge to the engine, one AppState over it, the App on the page. */
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { createBridge } from './lib/bridge.js';
import { preventStrayDrops } from './lib/platform.js';
import { AppState } from './lib/state/app-state.svelte.js';

preventStrayDrops();
const app = new AppState(createBridge());
void app.start();

export default mount(App, { target: document.getElementById('app')!, props: { app } });
